/**
 * `facerec enroll <people-folders...> --gallery <file>`: known people -> gallery file.
 * `facerec enroll --person <name> <images or folders...> --gallery <file>`: one person's photos.
 *
 * At scale (10,000 photos): photos are read one at a time, progress goes to stderr, and each
 * described photo is recorded in a journal beside the gallery (enroll-journal.ts), so that an
 * interrupted run, started again, resumes where it stopped. Then the gallery is measured as a
 * stranger would meet it (open-set.ts): the identification threshold, said in plain words, and
 * what to look at: photos with no face, several faces or a small face, photos far from their
 * own person's other photos, and people who look like one person under two names. A gallery
 * with no one in it is never written.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import {
  enrollPeople,
  reviewGallery,
  SMALL_FACE_PX,
  type EnrollImage,
  type EnrollReport,
  type GalleryReview,
} from '../../functions/core/gallery/enroll.js';
import { openJournal } from '../../functions/core/gallery/enroll-journal.js';
import { compileGallery, readGallery } from '../../functions/core/gallery/read.js';
import { galleryDocument, galleryFormatFor, type GalleryFormat } from '../../functions/core/gallery/write.js';
import type { StoreDtype } from '../../functions/core/gallery/store.js';
import {
  chooseThreshold,
  measureStrangers,
  thresholdFromSample,
  type ThresholdChoice,
} from '../../functions/core/faces/open-set.js';
import { openEngine, withEngineOptions, type EngineFlags } from '../lib/engine-options.js';
import { pushGallery, saveGallery } from './gallery.js';
import { withTargetOptions } from '../lib/options.js';
import type { TargetFlags } from '../lib/target.js';
import { expandImagePaths } from '../lib/image-paths.js';
import { listPeopleFolder, readEnrollImages, type PersonImages } from '../lib/people-folder.js';
import { printable } from '../../functions/core/printable.js';

// Names and paths come from folders and flags: printed with control characters and terminal
// escapes made visible, as every other command prints them.
const say = (line: string) => console.log(printable(line));
const sayError = (line: string) => console.error(printable(line));

interface EnrollFlags extends EngineFlags, TargetFlags {
  gallery: string;
  rebuild?: boolean;
  json?: boolean;
  person?: string;
  format?: GalleryFormat;
  dtype?: StoreDtype;
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

const count = (n: number) => n.toLocaleString('en-US');

/** Above this many people a JSON gallery gets a hint to use a store (its text is ~5 KB a person). */
const LARGE_JSON = 2000;

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** Progress on stderr: one line redrawn on a terminal, a line every 10 s otherwise. */
function enrollProgress(quiet: boolean) {
  const tty = process.stderr.isTTY;
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(done: number, total: number, image: EnrollImage) {
      if (quiet) return;
      const now = Date.now();
      if (done < total && now - last < (tty ? 250 : 10_000)) return;
      last = now;
      const rate = done / Math.max((now - started) / 1000, 1e-3);
      const left = rate > 0 ? (total - done) / rate : 0;
      const line =
        `enroll: ${count(done)}/${count(total)} photos (${Math.floor((done / total) * 100)}%), ` +
        `${rate.toFixed(1)}/s` +
        (done < total
          ? `, about ${duration(left)} left, at ${image.person}/${path.basename(image.file)}`
          : '');
      process.stderr.write(tty ? `\r${printable(line)}\x1b[K` : `${printable(line)}\n`);
      shown = true;
    },
    done() {
      if (!quiet && tty && shown) process.stderr.write('\n');
    },
  };
}

export async function runEnroll(folders: string | string[], flags: EnrollFlags): Promise<number> {
  const paths = typeof folders === 'string' ? [folders] : folders;
  const { people, label, problems } = await peopleOf(paths, flags);
  for (const p of problems) sayError(p);
  if (people.length === 0 || people.every((p) => p.files.length === 0)) {
    sayError(
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
  const format = galleryFormatFor(flags.gallery, existing, flags.format);
  const images = readEnrollImages(people, { label });
  const journal = openJournal(flags.gallery, engine.modelId);
  if (journal.carried && !flags.json)
    sayError(
      `resuming: ${count(journal.carried)} photos were described by an interrupted run (${journal.path})`,
    );
  // Progress goes to stderr: on a terminal always, otherwise unless --json asked for quiet output.
  const progress = enrollProgress(Boolean(flags.json) && !process.stderr.isTTY);
  const onSignal = (signal: NodeJS.Signals) => {
    progress.done();
    sayError(
      `enroll: ${signal}: stopped; the photos described so far are kept in ${journal.path}: ` +
        'run the same command again to resume without describing them again',
    );
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: Awaited<ReturnType<typeof enrollPeople>>;
  try {
    result = await enrollPeople(engine, images, existing && galleryDocument(existing), {
      progress: progress.update,
      journal,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.done();
  }
  const { gallery, report } = result;

  // The people's names, and the photos just described, are what the review is about.
  const compiled = compileGallery(gallery);
  const fresh = new Set([...report.enrolled, ...report.refreshed].map((e) => `${e.person}\n${e.file}`));
  const include: number[] = [];
  let row = 0;
  gallery.people.forEach((p) =>
    p.images.forEach((img) => {
      if (fresh.has(`${p.name}\n${img.file}`)) include.push(row);
      row++;
    }),
  );
  const sample = await measureStrangers(compiled, engine.config.descriptor, {
    include,
    threads: engine.config.onnxThreads,
  });
  const threshold =
    engine.config.matchThresholdFixed || !engine.config.openSetRule
      ? await chooseThreshold(gallery, engine.config)
      : thresholdFromSample(sample, engine.config);
  const review = reviewGallery(compiled, sample, threshold.threshold);

  let written: { bytes: number } | undefined;
  if (gallery.people.length > 0) {
    written = {
      bytes: await saveGallery(flags.gallery, gallery, {
        format,
        dtype: flags.dtype,
        strangerSample: sample,
      }),
    };
  }
  journal.finish();

  const pushed =
    written && (flags.push || flags.aws || flags.endpoint)
      ? await pushGallery(flags.gallery, flags)
      : undefined;
  const summary: EnrollSummary = {
    gallery: path.resolve(flags.gallery),
    written: Boolean(written),
    format,
    ...(written ? { bytes: written.bytes } : {}),
    ...(pushed ? { pushed: { location: pushed.location, etag: pushed.etag, target: pushed.target } } : {}),
    modelId: gallery.modelId,
    people: gallery.people.map((p) => ({ name: p.name, images: p.images.length })),
    photos: images.length,
    enrolled: report.enrolled.length,
    reused: report.reused.length,
    resumed: report.resumed.length,
    recipe: engine.enrollmentRecipe,
    refreshed: report.refreshed.length,
    notRefreshed: report.notRefreshed,
    skipped: report.skipped,
    noFace: report.skipped.filter((s) => s.reason === 'no face found'),
    mainFaceChosen: report.mainFaceChosen,
    smallFaces: report.smallFaces,
    farPhotos: review.farPhotos,
    twoNames: review.twoNames,
    samePhoto: review.samePhoto,
    threshold,
    peopleWithoutImages: report.peopleWithoutImages,
  };
  if (flags.json) {
    console.log(JSON.stringify(summary)); // JSON escapes what it must
  } else {
    printReport(summary, flags);
  }
  return written ? 0 : 1;
}

/** What `enroll` reports (printed, or as JSON with --json). */
interface EnrollSummary {
  gallery: string;
  written: boolean;
  format: GalleryFormat;
  bytes?: number;
  pushed?: { location: string; etag: string; target: string };
  modelId: string;
  people: Array<{ name: string; images: number }>;
  photos: number;
  enrolled: number;
  reused: number;
  resumed: number;
  recipe: string;
  refreshed: number;
  notRefreshed: EnrollReport['notRefreshed'];
  skipped: EnrollReport['skipped'];
  noFace: EnrollReport['skipped'];
  mainFaceChosen: EnrollReport['mainFaceChosen'];
  smallFaces: EnrollReport['smallFaces'];
  farPhotos: GalleryReview['farPhotos'];
  twoNames: GalleryReview['twoNames'];
  samePhoto: GalleryReview['samePhoto'];
  threshold: ThresholdChoice;
  peopleWithoutImages: string[];
}

function printReport(s: EnrollSummary, flags: EnrollFlags): void {
  const many = s.people.length > 40;
  if (s.written)
    say(
      `gallery ${s.gallery} (${s.format}, ${s.people.length} ${s.people.length === 1 ? 'person' : 'people'})`,
    );
  if (!many)
    for (const p of s.people) say(`  ${p.name.padEnd(24)} ${p.images} image${p.images === 1 ? '' : 's'}`);
  say(
    `enrolled ${count(s.enrolled)} new image(s)` +
      (s.resumed ? ` (${count(s.resumed)} described by the interrupted run)` : '') +
      `, refreshed ${s.refreshed} described by an older recipe (now ${s.recipe}), kept ${count(s.reused)} unchanged, skipped ${s.skipped.length}`,
  );
  const section = (title: string, lines: string[]) => {
    if (!lines.length) return;
    say(`${title} (${lines.length}):`);
    for (const l of lines) say(`  ${l}`);
  };
  section(
    'not enrolled, no face found',
    s.skipped.filter((x) => x.reason === 'no face found').map((x) => x.file),
  );
  section(
    'not enrolled, not readable as an image',
    s.skipped.filter((x) => x.reason !== 'no face found').map((x) => `${x.file}: ${x.reason}`),
  );
  section(
    'several faces: enrolled the main one',
    s.mainFaceChosen.map((c) => `${c.file}: ${c.note}`),
  );
  section(
    `small face (under ${SMALL_FACE_PX} px): enrolled, but a larger photo would match better`,
    s.smallFaces.map((c) => `${c.file}: ${c.px} px`),
  );
  section(
    "far from the person's other photos (a photo of someone else under that name, or a poor one)",
    s.farPhotos.map(
      (f) =>
        `${f.file}: ${f.distance.toFixed(3)} from ${f.person}'s ${f.others} other photo${f.others === 1 ? '' : 's'}` +
        (f.nearer ? `; nearer to ${f.nearer.person} (${f.nearer.distance.toFixed(3)})` : ''),
    ),
  );
  section(
    'the same photo under two names',
    s.samePhoto.map((d) => `${d.file}: ${d.people.join(', ')}`),
  );
  // Each pair once (A's photo near B and B's near A are one finding), nearest first.
  const pairs = new Map<string, { a: string; b: string; distance: number; files: Set<string> }>();
  for (const t of s.twoNames) {
    const [a, b] = [t.person, t.other].sort();
    const pair = pairs.get(`${a}\n${b}`) ?? { a, b, distance: t.distance, files: new Set<string>() };
    pair.distance = Math.min(pair.distance, t.distance);
    pair.files.add(t.file);
    pairs.set(`${a}\n${b}`, pair);
  }
  section(
    'would be named as each other (the same person under two names, or look-alikes)',
    [...pairs.values()].map(
      (p) => `${p.a} and ${p.b}: ${p.distance.toFixed(3)} (${[...p.files].join(', ')})`,
    ),
  );
  for (const c of s.notRefreshed)
    say(`  kept the earlier descriptor of ${c.file}: cannot describe it again (${c.reason})`);
  for (const name of s.peopleWithoutImages) say(`  warning: no usable image for ${name}; not in the gallery`);
  if (!s.written) {
    say(
      `nothing written: no face was found in any photo, and a gallery with no one in it would name no one` +
        (existsSync(flags.gallery) ? ` (${flags.gallery} is left as it was)` : ''),
    );
    return;
  }
  say(`identification threshold ${s.threshold.reason}`);
  if (s.format === 'json' && s.people.length > LARGE_JSON)
    say(
      `hint: ${count(s.people.length)} people: a binary store loads without parsing text and carries its ` +
        `calibration (facerec gallery convert ${flags.gallery} <name>.gallery, or --format store)`,
    );
  if (s.pushed) say(`pushed to ${s.pushed.location} (${s.pushed.target}), ETag ${s.pushed.etag}`);
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
      .requiredOption(
        '--gallery <file>',
        'gallery file to create or update (.json: JSON; other names: a binary store)',
      )
      .addOption(
        new Option(
          '--format <format>',
          'write JSON or a binary store (default: as the file is, else by its name)',
        ).choices(['json', 'store']),
      )
      .addOption(
        new Option(
          '--dtype <type>',
          'value type of a store (default float32; float16: half the bytes)',
        ).choices(['float16', 'float32']),
      )
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
