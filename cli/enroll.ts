/** `facerec enroll <people-folder> --gallery <file>`: known people -> gallery file. */
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { enrollPeople } from '../functions/core/enroll.js';
import { readGallery, serializeGallery } from '../functions/core/gallery.js';
import { chooseThreshold } from '../functions/core/faces/open-set.js';
import { readCohortPhotos } from './cohort.js';
import { openEngine, withEngineOptions, type EngineFlags } from './engine-options.js';
import { listPeopleFolder, readEnrollImages } from './people-folder.js';

interface EnrollFlags extends EngineFlags {
  gallery: string;
  rebuild?: boolean;
  json?: boolean;
}

export async function runEnroll(folder: string, flags: EnrollFlags): Promise<number> {
  const engine = await openEngine(flags);
  const people = await listPeopleFolder(folder);
  if (people.length === 0) {
    console.error(`${folder} holds no person folders: lay it out as ${folder}/<name>/*.jpg`);
    return 2;
  }
  const existing =
    !flags.rebuild && existsSync(flags.gallery)
      ? await readGallery(flags.gallery, engine.modelId)
      : undefined;
  const images = await readEnrollImages(people, { label: (file) => path.relative(folder, file) });
  const { gallery, report } = await enrollPeople(engine, images, existing, await readCohortPhotos());
  const threshold = chooseThreshold(gallery, engine.config);
  await mkdir(path.dirname(path.resolve(flags.gallery)), { recursive: true });
  // Write beside and rename: an interrupted run never leaves half a gallery.
  const tmp = `${flags.gallery}.${process.pid}.tmp`;
  await writeFile(tmp, serializeGallery(gallery));
  await rename(tmp, flags.gallery);

  const summary = {
    gallery: path.resolve(flags.gallery),
    modelId: gallery.modelId,
    people: gallery.people.map((p) => ({ name: p.name, images: p.images.length })),
    enrolled: report.enrolled.length,
    reused: report.reused.length,
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
      `enrolled ${report.enrolled.length} new image(s), kept ${report.reused.length} unchanged, skipped ${report.skipped.length}`,
    );
    for (const s of report.skipped) console.log(`  skipped ${s.file}: ${s.reason}`);
    for (const c of report.mainFaceChosen) console.log(`  ${c.file}: ${c.note}`);
    for (const name of report.peopleWithoutImages)
      console.log(`  warning: no usable image for ${name}; not in the gallery`);
    console.log(`identification threshold ${threshold.reason}`);
  }
  return gallery.people.length ? 0 : 1;
}

export function registerEnroll(program: Command): void {
  withEngineOptions(
    program
      .command('enroll')
      .description('build or update a gallery from a folder laid out <name>/*.{jpg,png,webp}')
      .argument('<people-folder>', 'one sub-folder per person, holding photos of that person only')
      .requiredOption('--gallery <file>', 'gallery file to create or update (JSON)')
      .option('--rebuild', 'ignore an existing gallery file and start afresh')
      .option('--json', 'print one JSON summary'),
  ).action(async (folder: string, flags: EnrollFlags) => {
    process.exitCode = await runEnroll(folder, flags);
  });
}
