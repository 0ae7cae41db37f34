/**
 * `facerec gallery push|show` against the local data folder (no stack running): the file is
 * checked against the engine's model id, lands at s3://<prefix>-meta/gallery/gallery.json, and
 * `show` reads it back through the same gallery source the recognition function uses.
 * `facerec enroll` into a gallery from before enrollment recipes were recorded refreshes it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '#functions/config.js';
import { pipelineModelId } from '#functions/core/faces/engine.js';
import { emptyGallery, type Gallery } from '#functions/core/gallery/read.js';
import { serializeGallery } from '#functions/core/gallery/write.js';
import { facerec } from '#test/support/cli.js';
import { repoRoot, tempDir } from '#test/support/videos.js';

test('push checks and uploads the gallery to the meta bucket; show reads it back; a wrong model is refused', async () => {
  const work = tempDir('facerec-gallery-cli-');
  const env = { FACEREC_LOCAL_DIR: path.join(work, 'local') };
  const modelId = pipelineModelId(loadConfig().engine);
  const gallery = {
    ...emptyGallery(modelId, 128),
    people: [
      {
        name: 'Ann',
        images: [
          { file: 'ann.jpg', sha256: 'a'.repeat(64), descriptor: Array.from({ length: 128 }, () => 0.01) },
        ],
      },
    ],
  };
  const file = path.join(work, 'g.json');
  writeFileSync(file, serializeGallery(gallery));

  const before = await facerec(['gallery', 'show', '--json'], env);
  expect(before.code).toBe(0);
  expect(JSON.parse(before.stdout)).toMatchObject({ present: false, people: [] });

  const pushed = await facerec(['gallery', 'push', file, '--json'], env);
  expect(pushed.code).toBe(0);
  expect(JSON.parse(pushed.stdout)).toMatchObject({
    location: 's3://facerec-meta/gallery/gallery.json',
    people: [{ name: 'Ann', images: 1 }],
  });
  const after = JSON.parse((await facerec(['gallery', 'show', '--json'], env)).stdout);
  expect(after).toMatchObject({ present: true, people: [{ name: 'Ann', images: 1 }] });

  const wrong = path.join(work, 'wrong.json');
  writeFileSync(wrong, serializeGallery({ ...gallery, modelId: 'another-model' }));
  const refused = await facerec(['gallery', 'push', wrong], env);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/another-model/);
}, 120_000);

test('enrolling again re-describes the images of a gallery enrolled before recipes were recorded, and says how many', async () => {
  const work = tempDir('facerec-enroll-refresh-');
  const env = { FACEREC_LOCAL_DIR: path.join(work, 'local') };
  const face = path.join(repoRoot, 'test/fixtures/reference/face1-150.png');
  const file = path.join(work, 'g.json');
  const enroll = (json: boolean) =>
    facerec(['enroll', '--person', 'Alice', face, '--gallery', file, ...(json ? ['--json'] : [])], env);

  const first = await enroll(true);
  expect(first.code).toBe(0);
  expect(JSON.parse(first.stdout)).toMatchObject({ enrolled: 1, refreshed: 0, reused: 0 });
  const written = JSON.parse(readFileSync(file, 'utf8')) as Gallery;
  const recipe = JSON.parse(first.stdout).recipe as string;
  expect(written.people[0].images[0].recipe).toBe(recipe);

  // the same file as an enrollment before this change wrote it: no recipe, another descriptor
  const image = written.people[0].images[0];
  const original = [...image.descriptor];
  delete image.recipe;
  image.descriptor = image.descriptor.map((v, i) => (i === 0 ? v + 0.05 : v));
  writeFileSync(file, serializeGallery(written));

  const second = await enroll(false);
  expect(second.code).toBe(0);
  expect(second.stdout).toMatch(
    new RegExp(
      `enrolled 0 new image\\(s\\), refreshed 1 described by an older recipe \\(now ${recipe.replace(/[.+]/g, '\\$&')}\\), kept 0 unchanged`,
    ),
  );
  const refreshed = JSON.parse(readFileSync(file, 'utf8')) as Gallery;
  expect(refreshed.people[0].images[0].recipe).toBe(recipe);
  // described again: the enrolled descriptor, not the one the file held
  const again = refreshed.people[0].images[0].descriptor;
  expect(Math.max(...again.map((v, i) => Math.abs(v - original[i])))).toBeLessThan(1e-4);

  const third = await enroll(true);
  expect(JSON.parse(third.stdout)).toMatchObject({ enrolled: 0, refreshed: 0, reused: 1 });
}, 120_000);

test('convert writes a binary store and back; push uploads the store as is; show reads it as the function does', async () => {
  const work = tempDir('facerec-gallery-store-');
  const env = { FACEREC_LOCAL_DIR: path.join(work, 'local') };
  const modelId = pipelineModelId(loadConfig().engine);
  const person = (name: string, k: number) => ({
    name,
    images: [
      {
        file: `${name}.jpg`,
        sha256: String(k).repeat(64),
        descriptor: Array.from({ length: 512 }, (_, i) => Math.cos(i * (k + 1)) / 16),
      },
    ],
  });
  const gallery = {
    ...emptyGallery(modelId, 512),
    people: [person('Ann', 1), person('Bob', 2), person('Cy', 3)],
  };
  const json = path.join(work, 'g.json');
  writeFileSync(json, serializeGallery(gallery));
  const store = path.join(work, 'g.gallery');

  const converted = await facerec(['gallery', 'convert', json, store, '--dtype', 'float16', '--json'], env);
  expect(converted.code).toBe(0);
  expect(JSON.parse(converted.stdout)).toMatchObject({ format: 'store (float16)', people: 3 });
  expect(readFileSync(store).subarray(0, 8).toString('latin1')).toBe('FRGSTORE');

  const pushed = await facerec(['gallery', 'push', store, '--json'], env);
  expect(pushed.code).toBe(0);
  const p = JSON.parse(pushed.stdout);
  expect(p).toMatchObject({
    format: 'store (float16)',
    people: [{ name: 'Ann' }, { name: 'Bob' }, { name: 'Cy' }],
  });
  const shown = JSON.parse((await facerec(['gallery', 'show', '--json'], env)).stdout);
  expect(shown).toMatchObject({ present: true, format: 'store (float16)', id: p.id });
  expect(shown.people.map((x: { name: string }) => x.name)).toEqual(['Ann', 'Bob', 'Cy']);

  const back = path.join(work, 'back.json');
  expect((await facerec(['gallery', 'convert', store, back], env)).code).toBe(0);
  const read = JSON.parse(readFileSync(back, 'utf8')) as Gallery;
  expect(read.people.map((x) => x.name)).toEqual(['Ann', 'Bob', 'Cy']);
  // float16: within its rounding of the JSON values
  const d0 = gallery.people[0].images[0].descriptor;
  expect(Math.max(...read.people[0].images[0].descriptor.map((v, i) => Math.abs(v - d0[i])))).toBeLessThan(
    1e-4,
  );
}, 300_000);
