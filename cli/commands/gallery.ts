/**
 * `facerec gallery push <file> [--aws | --endpoint <url>] [--prefix p]`: checks a gallery file
 * (JSON or binary store) and uploads it as is to `s3://<prefix>-meta/gallery/gallery.json`,
 * where the recognition function reads it (it re-checks the object's ETag every few seconds: no
 * redeploy; the key keeps its name whatever the form, the function tells them apart). Without
 * --aws/--endpoint: the local stack (running, or the data a stopped one left).
 * `facerec gallery show [...]`: where the pipeline's gallery is, its version and people.
 * `facerec gallery convert <from> <to>`: JSON <-> binary store (the old JSON galleries keep working
 * as they are; a store is for thousands of people and more).
 */
import { mkdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Option, type Command } from 'commander';
import { gallerySource, putGallery } from '../../functions/aws/gallery-source.js';
import { DESCRIPTOR_SIZE } from '../../functions/core/faces/describe.js';
import { pipelineModelId } from '../../functions/core/faces/engine.js';
import { chooseThreshold, measureStrangers } from '../../functions/core/faces/open-set.js';
import {
  galleryFromBytes,
  galleryId,
  galleryPeople,
  GalleryError,
  isCompiled,
  readGallery,
  type AnyGallery,
} from '../../functions/core/gallery/read.js';
import {
  galleryBytes,
  galleryFormatFor,
  DEFAULT_STORE_DTYPE,
  type GalleryFormat,
} from '../../functions/core/gallery/write.js';
import { STORE_DTYPES, type StoreDtype, type StrangerSample } from '../../functions/core/gallery/store.js';
import { GALLERY_KEY, galleryLocation } from '../../functions/core/layout.js';
import { engineConfig, withEngineOptions, type EngineFlags } from '../lib/engine-options.js';
import { withTargetOptions } from '../lib/options.js';
import { configWith, resolveTarget, type TargetFlags } from '../lib/target.js';

type GalleryFlags = TargetFlags & EngineFlags & { json?: boolean; all?: boolean };

/** People listed by name in human output; the rest are counted (a store may hold 100,000). */
const LISTED = 30;

async function targetFor(flags: TargetFlags) {
  // A first push before any local run: the local data folder may not exist yet.
  if (!flags.aws && !flags.endpoint)
    mkdirSync(path.join(configWith(flags).pipeline.local.dir, 's3'), { recursive: true });
  return resolveTarget(flags, { local: 'read' });
}

/** `names` as a short list: the first LISTED, then how many more. */
function someNames(people: Array<{ name: string }>, all = false): string {
  const shown = all ? people : people.slice(0, LISTED);
  const more = people.length - shown.length;
  return shown.map((p) => p.name).join(', ') + (more > 0 ? `, and ${more.toLocaleString('en-US')} more` : '');
}

/**
 * Writes a gallery file atomically (beside, then renamed: an interrupted write never leaves
 * half a gallery). A JSON gallery too large for one string is refused with the way out.
 */
export async function saveGallery(
  file: string,
  gallery: AnyGallery,
  options: { format: GalleryFormat; dtype?: StoreDtype; strangerSample?: StrangerSample },
): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = galleryBytes(gallery, options);
  } catch (err) {
    if (err instanceof RangeError)
      throw new GalleryError(
        `${file}: ${galleryPeople(gallery).length} people are too many for a JSON gallery; write a binary store (--format store)`,
      );
    throw err;
  }
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return bytes.length;
}

/** Checks the file against this engine's model id, then uploads it; returns where and what. */
export async function pushGallery(file: string, flags: GalleryFlags) {
  const modelId = pipelineModelId(engineConfig(flags));
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new GalleryError(`cannot read gallery file ${file}: ${err.code ?? err.message}`);
  });
  const gallery = galleryFromBytes(bytes, modelId, file);
  const target = await targetFor(flags);
  try {
    const location = galleryLocation(target.buckets);
    const etag = await putGallery(target.s3, location, bytes);
    return {
      location,
      etag,
      target: target.description,
      id: galleryId(gallery),
      format: isCompiled(gallery) ? `store (${gallery.storedAs})` : 'json',
      bytes: bytes.length,
      people: galleryPeople(gallery),
    };
  } finally {
    await target.close();
  }
}

async function showGallery(flags: GalleryFlags) {
  const modelId = pipelineModelId(engineConfig(flags));
  const target = await targetFor(flags);
  try {
    const location = galleryLocation(target.buckets);
    const loaded = await gallerySource(location, () => target.s3).current(modelId, DESCRIPTOR_SIZE);
    const head =
      loaded.version === 'missing'
        ? undefined
        : await target.s3.send(new HeadObjectCommand({ Bucket: target.buckets.meta, Key: GALLERY_KEY }));
    return {
      location,
      target: target.description,
      present: loaded.version !== 'missing',
      etag: loaded.version === 'missing' ? undefined : loaded.version,
      lastModified: head?.LastModified?.toISOString(),
      bytes: head?.ContentLength,
      format: isCompiled(loaded.gallery) ? `store (${loaded.gallery.storedAs})` : 'json',
      id: loaded.id,
      people: galleryPeople(loaded.gallery),
    };
  } finally {
    await target.close();
  }
}

interface ConvertFlags extends EngineFlags {
  format?: GalleryFormat;
  dtype?: StoreDtype;
  json?: boolean;
}

/** JSON <-> store. A store gets the stranger sample measured now, so that a function loading
 * it does not measure a large gallery at its cold start. */
async function convertGallery(from: string, to: string, flags: ConvertFlags) {
  const config = engineConfig(flags);
  const gallery = await readGallery(from, pipelineModelId(config));
  const format = flags.format ?? (isCompiled(gallery) ? 'json' : galleryFormatFor(to));
  if (path.resolve(from) === path.resolve(to)) throw new GalleryError(`convert: ${to} is the file read`);
  const started = performance.now();
  const strangerSample = format === 'store' ? await measureStrangers(gallery, config.descriptor) : undefined;
  const bytes = await saveGallery(to, gallery, { format, dtype: flags.dtype, strangerSample });
  const threshold = await chooseThreshold(await readGallery(to, pipelineModelId(config)), config);
  return {
    from,
    to,
    format:
      format === 'store'
        ? `store (${flags.dtype ?? (isCompiled(gallery) ? gallery.storedAs : undefined) ?? DEFAULT_STORE_DTYPE})`
        : 'json',
    bytes,
    people: galleryPeople(gallery).length,
    id: galleryId(gallery),
    ms: Math.round(performance.now() - started),
    threshold,
  };
}

const formatOption = () =>
  new Option(
    '--format <format>',
    'gallery file format: json, or store (binary, for large galleries)',
  ).choices(['json', 'store']);
const dtypeOption = () =>
  new Option(
    '--dtype <type>',
    'value type of a store: float32 (default: no decode at load) or float16 (half the bytes to download)',
  ).choices([...STORE_DTYPES]);

export function registerGallery(program: Command): void {
  const gallery = program
    .command('gallery')
    .description("the pipeline's gallery in S3 (s3://<prefix>-meta/gallery/gallery.json), and gallery files");
  withEngineOptions(
    withTargetOptions(
      gallery
        .command('push')
        .description(
          'check a gallery file (JSON or store) and upload it where the recognition function reads it',
        )
        .argument('<file>', 'gallery file (facerec enroll --gallery <file>)')
        .option('--all', 'list every person (default: the first 30)')
        .option('--json', 'print one JSON summary'),
    ),
  ).action(async (file: string, flags: GalleryFlags) => {
    const r = await pushGallery(file, flags);
    if (flags.json) console.log(JSON.stringify(r));
    else {
      console.log(
        `pushed ${file} (${r.format}, ${r.bytes.toLocaleString('en-US')} bytes) -> ${r.location} (${r.target}), ETag ${r.etag}`,
      );
      console.log(`  ${r.people.length.toLocaleString('en-US')} people: ${someNames(r.people, flags.all)}`);
      console.log('  the recognition function uses it within ~10 s (no redeploy)');
    }
  });
  withEngineOptions(
    withTargetOptions(
      gallery
        .command('show')
        .description('where the gallery is, its version and its people')
        .option('--all', 'list every person (default: the first 30)')
        .option('--json', 'print JSON'),
    ),
  ).action(async (flags: GalleryFlags) => {
    const r = await showGallery(flags);
    if (flags.json) console.log(JSON.stringify(r));
    else if (!r.present) console.log(`${r.location} (${r.target}): no gallery yet; every face is Unknown`);
    else {
      console.log(`${r.location} (${r.target}): ${r.format}, ETag ${r.etag}, ${r.lastModified}, id ${r.id}`);
      const shown = flags.all ? r.people : r.people.slice(0, LISTED);
      for (const p of shown) console.log(`  ${p.name.padEnd(24)} ${p.images}`);
      if (shown.length < r.people.length)
        console.log(
          `  ... and ${(r.people.length - shown.length).toLocaleString('en-US')} more (--all lists them)`,
        );
    }
  });
  withEngineOptions(
    gallery
      .command('convert')
      .description('write a gallery file in the other format: JSON -> binary store, or store -> JSON')
      .argument('<from>', 'gallery file to read (JSON or store)')
      .argument('<to>', 'gallery file to write')
      .addOption(formatOption())
      .addOption(dtypeOption())
      .option('--json', 'print one JSON summary'),
  ).action(async (from: string, to: string, flags: ConvertFlags) => {
    const r = await convertGallery(from, to, flags);
    if (flags.json) console.log(JSON.stringify(r));
    else {
      console.log(
        `${from} -> ${to}: ${r.format}, ${r.people.toLocaleString('en-US')} people, ${r.bytes.toLocaleString('en-US')} bytes (${r.ms} ms), id ${r.id}`,
      );
      console.log(`identification threshold ${r.threshold.reason}`);
    }
  });
}
