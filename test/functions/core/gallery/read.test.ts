import {
  galleryFromText,
  galleryId,
  GalleryError,
  parseGallery,
  readGallery,
  type Gallery,
} from '#functions/core/gallery/read.js';
import { serializeGallery } from '#functions/core/gallery/write.js';
import { matchRows, nearestRows, matMulModel, toRows } from '#functions/core/faces/match.js';
import onnxProto from 'onnx-proto';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const MODEL = 'test-model/dlib-chip+mirror';
const vec = (...head: number[]) => [...head, ...Array(4 - head.length).fill(0)];
const gallery: Gallery = {
  version: 1,
  modelId: MODEL,
  descriptorSize: 4,
  people: [
    { name: 'amy', images: [{ file: 'amy/1.png', sha256: 'a'.repeat(64), descriptor: vec(1, 0) }] },
    {
      name: 'raj',
      images: [
        { file: 'raj/1.png', sha256: 'b'.repeat(64), descriptor: vec(0, 1) },
        { file: 'raj/2.png', sha256: 'c'.repeat(64), descriptor: vec(0, 2) },
      ],
    },
  ],
};

describe('gallery files', () => {
  it('round-trips through JSON', () => {
    expect(parseGallery(JSON.parse(serializeGallery(gallery)), MODEL)).toEqual(gallery);
  });

  it('refuses a gallery built for another model, saying what to do', () => {
    expect(() => parseGallery(gallery, 'other-model')).toThrow(GalleryError);
    expect(() => parseGallery(gallery, 'other-model')).toThrow(/built for model 'test-model.*facerec enroll/);
  });

  it('refuses malformed content and wrong descriptor sizes', () => {
    expect(() => parseGallery({ version: 1, modelId: MODEL }, MODEL)).toThrow(/not a valid gallery/);
    expect(() => parseGallery({ ...gallery, version: 7 }, MODEL)).toThrow(/version 7/);
    const bad = structuredClone(gallery);
    bad.people[0].images[0].descriptor = [1, 2];
    expect(() => parseGallery(bad, MODEL)).toThrow(/expected 4/);
    // A person with no photo would be matched at a made-up distance, hiding every real match.
    const ghost = { ...gallery, people: [...gallery.people, { name: 'ghost', images: [] }] };
    expect(() => parseGallery(ghost, MODEL)).toThrow(/at least one photo/);
  });

  it('reports a missing file and a non-JSON file clearly', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gallery-'));
    await expect(readGallery(path.join(dir, 'none.json'), MODEL)).rejects.toThrow(
      /cannot read gallery file .*ENOENT/,
    );
    await writeFile(path.join(dir, 'x.json'), 'not json');
    await expect(readGallery(path.join(dir, 'x.json'), MODEL)).rejects.toThrow(/not JSON/);
  });

  it('reads every source through one reader: any model when none is expected, the source named in errors', () => {
    const text = serializeGallery(gallery);
    expect(galleryFromText(text, MODEL, 's3://b/g.json')).toEqual(gallery);
    expect(galleryFromText(text, undefined, 'bundle')).toEqual(gallery);
    expect(() => galleryFromText(text, 'other-model', 's3://b/g.json')).toThrow(
      /^s3:\/\/b\/g.json: .*built for model/,
    );
    expect(() => galleryFromText('{', undefined, 'bundle')).toThrow(/^bundle: not JSON/);
    const bad = structuredClone(gallery);
    bad.people[0].images[0].descriptor = [1, 2];
    expect(() => galleryFromText(JSON.stringify(bad), undefined, 'bundle')).toThrow(/expected 4/);
  });

  it('keeps the enrollment recipe of each image, and still reads galleries from before it was recorded', () => {
    // `gallery` above has no recipe: the older format, accepted by every reader as it was
    expect(galleryFromText(serializeGallery(gallery), undefined, 'bundle')).toEqual(gallery);
    const described = structuredClone(gallery);
    described.people[0].images[0].recipe = 'views:mirror+zoom0.1';
    const read = galleryFromText(serializeGallery(described), MODEL, 's3://b/g.json');
    expect(read.people[0].images[0].recipe).toBe('views:mirror+zoom0.1');
    expect(read.people[1].images[0].recipe).toBeUndefined();
    // re-described images are other content: another id; an old gallery's id is unchanged
    expect(galleryId(described)).not.toBe(galleryId(gallery));
    const before = createHash('sha256').update(MODEL); // the id as computed before recipes existed
    for (const p of gallery.people) {
      before.update(`\n${p.name}`);
      for (const img of p.images) before.update(`\n${img.sha256}`);
    }
    expect(galleryId(gallery)).toBe(before.digest('hex').slice(0, 16));
    const empty = structuredClone(gallery);
    empty.people[0].images[0].recipe = '';
    expect(() => parseGallery(empty, MODEL)).toThrow(/recipe/);
  });

  it('has an id that changes with the content only', () => {
    expect(galleryId(gallery)).toBe(galleryId(structuredClone(gallery)));
    const other = structuredClone(gallery);
    other.people.pop();
    expect(galleryId(other)).not.toBe(galleryId(gallery));
  });
});

describe('nearest-row search', () => {
  const rows = toRows(
    gallery.people.flatMap((p) => p.images.map((img) => img.descriptor)),
    4,
  );
  const photos = { data: rows, rows: 3, size: 4 };
  const owner = [0, 1, 1];
  const names = ['amy', 'raj'];

  it('names the nearest person within the threshold', async () => {
    const [near, far] = await matchRows(
      photos,
      owner,
      names,
      [vec(0.1, 1.9), vec(0.9, 0.1)],
      0.6,
      'euclidean',
    );
    expect(near).toMatchObject({ name: 'raj', nearest: 'raj' });
    expect(far.distance).toBeCloseTo(Math.SQRT2 * 0.1, 6);
  });

  it('says Unknown beyond the threshold but still reports the nearest', async () => {
    expect((await matchRows(photos, owner, names, [vec(5, 5)], 0.6, 'euclidean'))[0]).toMatchObject({
      name: 'Unknown',
      nearest: 'raj',
    });
  });

  it('says Unknown with no distance when there are no rows', async () => {
    const none = { data: new Float32Array(), rows: 0, size: 4 };
    expect((await matchRows(none, [], [], [vec(1)], 0.6, 'euclidean'))[0]).toEqual({
      name: 'Unknown',
      distance: null,
      nearest: null,
    });
  });

  it('skips the rows a query must not match (its own person)', async () => {
    const found = await nearestRows(photos, toRows([vec(0, 1)], 4), 1, 'euclidean', { skip: () => [1, 3] });
    expect(found.index[0]).toBe(0);
    expect(found.distance[0]).toBeCloseTo(Math.SQRT2, 6);
  });

  it('gives the same answers as one onnxruntime MatMul as in the loop (large products)', async () => {
    // 3,000 rows x 64 values x 40 queries: past the loop's limit, so onnxruntime runs it.
    let seed = 1;
    const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    const big = { data: Float32Array.from({ length: 3000 * 64 }, rand), rows: 3000, size: 64 };
    const queries = Float32Array.from({ length: 40 * 64 }, rand);
    const found = await nearestRows(big, queries, 40, 'euclidean');
    for (let q = 0; q < 40; q++) {
      let best = Infinity;
      let row = -1;
      for (let r = 0; r < 3000; r++) {
        let s = 0;
        for (let j = 0; j < 64; j++) s += (big.data[r * 64 + j] - queries[q * 64 + j]) ** 2;
        if (s < best) [best, row] = [s, r];
      }
      expect(found.index[q]).toBe(row);
      expect(found.distance[q]).toBeCloseTo(Math.sqrt(best), 4);
    }
  });

  it('writes a valid ONNX model by hand (decoded here with onnx-proto)', () => {
    const model = onnxProto.onnx.ModelProto.decode(matMulModel());
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport[0]).toMatchObject({ domain: '', version: expect.anything() });
    expect(model.graph?.node?.[0]).toMatchObject({ opType: 'MatMul', input: ['t', 'q'], output: ['s'] });
    expect(model.graph?.input?.map((i) => i.name)).toEqual(['t', 'q']);
  });
});
