/**
 * `facerec gallery push <file> [--aws | --endpoint <url>] [--prefix p]`: checks a gallery file and
 * uploads it to `s3://<prefix>-meta/gallery/gallery.json`, where the recognition function reads
 * it (it re-checks the object's ETag every few seconds: no redeploy). Without --aws/--endpoint:
 * the local stack (running, or the data a stopped one left).
 * `facerec gallery show [...]`: where the gallery is, its version and people.
 */
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { gallerySource, putGallery } from '../../functions/aws/gallery-source.js';
import { DESCRIPTOR_SIZE } from '../../functions/core/faces/describe.js';
import { pipelineModelId } from '../../functions/core/faces/engine.js';
import { galleryId, readGallery } from '../../functions/core/gallery.js';
import { GALLERY_KEY, galleryLocation } from '../../functions/core/layout.js';
import { engineConfig, withEngineOptions, type EngineFlags } from '../lib/engine-options.js';
import { withTargetOptions } from '../lib/options.js';
import { configWith, resolveTarget, type TargetFlags } from '../lib/target.js';

type GalleryFlags = TargetFlags & EngineFlags & { json?: boolean };

async function targetFor(flags: TargetFlags) {
  // A first push before any local run: the local data folder may not exist yet.
  if (!flags.aws && !flags.endpoint)
    mkdirSync(path.join(configWith(flags).pipeline.local.dir, 's3'), { recursive: true });
  return resolveTarget(flags, { local: 'read' });
}

/** Checks the file against this engine's model id, then uploads it; returns where and what. */
export async function pushGallery(file: string, flags: GalleryFlags) {
  const modelId = pipelineModelId(engineConfig(flags));
  const gallery = await readGallery(file, modelId);
  const bytes = await readFile(file);
  const target = await targetFor(flags);
  try {
    const location = galleryLocation(target.buckets);
    const etag = await putGallery(target.s3, location, bytes);
    return {
      location,
      etag,
      target: target.description,
      id: galleryId(gallery),
      people: gallery.people.map((p) => ({ name: p.name, images: p.images.length })),
    };
  } finally {
    await target.close();
  }
}

export async function showGallery(flags: GalleryFlags) {
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
      id: loaded.id,
      people: loaded.gallery.people.map((p) => ({ name: p.name, images: p.images.length })),
    };
  } finally {
    await target.close();
  }
}

export function registerGallery(program: Command): void {
  const gallery = program
    .command('gallery')
    .description("the pipeline's gallery in S3 (s3://<prefix>-meta/gallery/gallery.json)");
  withEngineOptions(
    withTargetOptions(
      gallery
        .command('push')
        .description('check a gallery file and upload it where the recognition function reads it')
        .argument('<file>', 'gallery file (facerec enroll --gallery <file>)')
        .option('--json', 'print one JSON summary'),
    ),
  ).action(async (file: string, flags: GalleryFlags) => {
    const r = await pushGallery(file, flags);
    if (flags.json) console.log(JSON.stringify(r));
    else {
      console.log(`pushed ${file} -> ${r.location} (${r.target}), ETag ${r.etag}`);
      console.log(`  ${r.people.length} people: ${r.people.map((p) => p.name).join(', ')}`);
      console.log('  the recognition function uses it within ~10 s (no redeploy)');
    }
  });
  withEngineOptions(
    withTargetOptions(
      gallery
        .command('show')
        .description('where the gallery is, its version and its people')
        .option('--json', 'print JSON'),
    ),
  ).action(async (flags: GalleryFlags) => {
    const r = await showGallery(flags);
    if (flags.json) console.log(JSON.stringify(r));
    else if (!r.present) console.log(`${r.location} (${r.target}): no gallery yet; every face is Unknown`);
    else {
      console.log(`${r.location} (${r.target}): ETag ${r.etag}, ${r.lastModified}, id ${r.id}`);
      for (const p of r.people) console.log(`  ${p.name.padEnd(24)} ${p.images}`);
    }
  });
}
