/**
 * `facerec enroll <people-folders...> --gallery <file>`: known people -> gallery file.
 * `facerec enroll --person <name> <images or folders...> --gallery <file>`: one person's photos.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { enrollPeople } from '../lib/enroll.js';
import { readGallery, serializeGallery } from '../../functions/core/gallery.js';
import { chooseThreshold } from '../../functions/core/faces/open-set.js';
import { readCohortPhotos } from '../lib/cohort.js';
import { openEngine, withEngineOptions, type EngineFlags } from '../lib/engine-options.js';
import { pushGallery } from './gallery.js';
import { withTargetOptions } from '../lib/options.js';
import type { TargetFlags } from '../lib/target.js';
import { expandImagePaths } from '../lib/image-paths.js';
import { listPeopleFolder, readEnrollImages, type PersonImages } from '../lib/people-folder.js';

interface EnrollFlags extends EngineFlags, TargetFlags {
  gallery: string;
  rebuild?: boolean;
  json?: boolean;
  person?: string;
  /** Upload the gallery to the pipeline's meta bucket (implied by --aws and --endpoint). */
  push?: boolean;
}

/** The people to enroll: `--person` with its images, or the people folders' sub-folders (a
 * person in several folders gets the photos of all). Gallery labels: relative to the folder. */
async function peopleOf(
  paths: string[],
  flags: EnrollFlags,
): Promise<{ people: PersonImages[]; label: (file: string) => string; problems: string[] }> {
  if (flags.person !== undefined) {
    const name = flags.person.trim();
    if (!name || name.includes('/'))
      throw new Error(`--person needs a name without '/' (got '${flags.person}')`);
    const { files, missing } = await expandImagePaths(paths);
    return {
      people: [{ name, files }],
      label: (file) => path.relative(process.cwd(), file),
      problems: missing.map((m) => `${m.path}: ${m.error}`),
    };
  }
  const byName = new Map<string, PersonImages>();
  const root = new Map<string, string>();
  for (const folder of paths) {
    for (const p of await listPeopleFolder(folder)) {
      const merged = byName.get(p.name) ?? { name: p.name, files: [] };
      merged.files.push(...p.files);
      byName.set(p.name, merged);
      for (const f of p.files) root.set(f, folder);
    }
  }
  const people = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  return { people, label: (file) => path.relative(root.get(file) ?? '.', file), problems: [] };
}

export async function runEnroll(folders: string | string[], flags: EnrollFlags): Promise<number> {
  const paths = typeof folders === 'string' ? [folders] : folders;
  const { people, label, problems } = await peopleOf(paths, flags);
  for (const p of problems) console.error(p);
  if (people.length === 0 || people.every((p) => p.files.length === 0)) {
    console.error(
      flags.person !== undefined
        ? `no image of ${flags.person} in ${paths.join(', ')}`
        : `${paths.join(', ')}: no person folders: lay it out as <folder>/<name>/*.jpg (or use --person <name>)`,
    );
    return 2;
  }
  const engine = await openEngine(flags);
  const existing =
    !flags.rebuild && existsSync(flags.gallery)
      ? await readGallery(flags.gallery, engine.modelId)
      : undefined;
  const images = await readEnrollImages(people, { label });
  const { gallery, report } = await enrollPeople(engine, images, existing, await readCohortPhotos());
  const threshold = chooseThreshold(gallery, engine.config);
  await mkdir(path.dirname(path.resolve(flags.gallery)), { recursive: true });
  // Write beside and rename: an interrupted run never leaves half a gallery.
  const tmp = `${flags.gallery}.${process.pid}.tmp`;
  await writeFile(tmp, serializeGallery(gallery));
  await rename(tmp, flags.gallery);

  const pushed =
    (flags.push || flags.aws || flags.endpoint) && gallery.people.length
      ? await pushGallery(flags.gallery, flags)
      : undefined;
  const summary = {
    gallery: path.resolve(flags.gallery),
    ...(pushed ? { pushed: { location: pushed.location, etag: pushed.etag, target: pushed.target } } : {}),
    modelId: gallery.modelId,
    people: gallery.people.map((p) => ({ name: p.name, images: p.images.length })),
    enrolled: report.enrolled.length,
    reused: report.reused.length,
    recipe: engine.enrollmentRecipe,
    refreshed: report.refreshed.length,
    notRefreshed: report.notRefreshed,
    skipped: report.skipped,
    mainFaceChosen: report.mainFaceChosen,
    threshold,
    peopleWithoutImages: report.peopleWithoutImages,
  };
  if (flags.json) {
    console.log(JSON.stringify(summary));
  } else {
    console.log(`gallery ${summary.gallery} (${gallery.modelId})`);
    for (const p of summary.people)
      console.log(`  ${p.name.padEnd(24)} ${p.images} image${p.images === 1 ? '' : 's'}`);
    console.log(
      `enrolled ${report.enrolled.length} new image(s), refreshed ${report.refreshed.length} described by an older recipe ` +
        `(now ${engine.enrollmentRecipe}), kept ${report.reused.length} unchanged, skipped ${report.skipped.length}`,
    );
    for (const s of report.notRefreshed)
      console.log(`  kept the earlier descriptor of ${s.file}: cannot describe it again (${s.reason})`);
    for (const s of report.skipped) console.log(`  skipped ${s.file}: ${s.reason}`);
    for (const c of report.mainFaceChosen) console.log(`  ${c.file}: ${c.note}`);
    for (const name of report.peopleWithoutImages)
      console.log(`  warning: no usable image for ${name}; not in the gallery`);
    console.log(`identification threshold ${threshold.reason}`);
    if (pushed) console.log(`pushed to ${pushed.location} (${pushed.target}), ETag ${pushed.etag}`);
  }
  return gallery.people.length ? 0 : 1;
}

export function registerEnroll(program: Command): void {
  withEngineOptions(
    withTargetOptions(program.command('enroll'))
      .description('build or update a gallery from a folder laid out <name>/*.{jpg,png,webp}')
      .argument(
        '<folders...>',
        'people folders: one sub-folder per person, holding photos of that person only; with --person, images or folders of that person',
      )
      .option('--person <name>', "enroll the given images (or folders' images) as this person")
      .requiredOption('--gallery <file>', 'gallery file to create or update (JSON)')
      .option('--rebuild', 'ignore an existing gallery file and start afresh')
      .option('--json', 'print one JSON summary')
      .option(
        '--push',
        "upload the gallery to the pipeline's meta bucket (local stack unless --aws/--endpoint; either implies --push)",
      ),
  ).action(async (folders: string[], flags: EnrollFlags) => {
    process.exitCode = await runEnroll(folders, flags);
  });
}
