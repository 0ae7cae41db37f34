/**
 * `facerec gallery push|show` against the local data folder (no stack running): the file is
 * checked against the engine's model id, lands at s3://<prefix>-meta/gallery/gallery.json, and
 * `show` reads it back through the same gallery source the recognition function uses.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '#functions/config.js';
import { pipelineModelId } from '#functions/core/faces/engine.js';
import { emptyGallery, serializeGallery } from '#functions/core/gallery.js';
import { facerec } from '#test/support/cli.js';
import { tempDir } from '#test/support/videos.js';

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
