/**
 * The binary gallery store: what goes in comes out (names, photos per person, descriptors,
 * provenance, the stranger sample, the id), float16 within its rounding, and damaged or foreign
 * files refused with a clear reason. JSON galleries stay readable by the same reader.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  compileGallery,
  galleryFromBytes,
  galleryId,
  galleryPeople,
  readGallery,
  type CompiledGallery,
  type Gallery,
} from '#functions/core/gallery/read.js';
import { galleryBytes, galleryDocument, serializeGallery } from '#functions/core/gallery/write.js';
import { decodeGalleryStore, encodeGalleryStore, isGalleryStore } from '#functions/core/gallery/store.js';
import { measureStrangers } from '#functions/core/faces/open-set.js';
import { rowSquaredNorms } from '#functions/core/faces/match.js';

const MODEL = 'test-model';
/** Values a float32 holds exactly, so that JSON -> store -> JSON compares equal. */
const v = (...xs: number[]) => xs.map((x) => x / 8);
const gallery: Gallery = {
  version: 1,
  modelId: MODEL,
  descriptorSize: 4,
  people: [
    {
      name: 'Ann Lee',
      images: [
        { file: 'ann/1.jpg', sha256: 'a'.repeat(64), descriptor: v(1, 2, 3, 4), recipe: 'views:mirror' },
      ],
    },
    {
      name: 'Zoë «Ω» 名前',
      images: [
        { file: 'zoe/1.png', sha256: 'b'.repeat(64), descriptor: v(-1, 0, 5, 2) },
        { file: 'zoe/2.png', sha256: 'c'.repeat(64), descriptor: v(0, -3, 1, 1), recipe: 'views:mirror' },
      ],
    },
  ],
  cohort: { source: 'demo', descriptors: [v(2, 2, 2, 2)] },
};

describe('the binary gallery store', () => {
  it('round-trips everything in float32, and keeps the JSON gallery id', () => {
    const bytes = galleryBytes(gallery, { format: 'store', dtype: 'float32' });
    expect(isGalleryStore(bytes)).toBe(true);
    const store = galleryFromBytes(bytes, MODEL, 'g.store') as CompiledGallery;
    expect(store.kind).toBe('compiled');
    expect(store.storedAs).toBe('float32');
    expect(store.names).toEqual(['Ann Lee', 'Zoë «Ω» 名前']);
    expect(Array.from(store.counts)).toEqual([1, 2]);
    expect(store.id).toBe(galleryId(gallery));
    expect(galleryDocument(store)).toEqual(gallery);
    expect(galleryPeople(store)).toEqual([
      { name: 'Ann Lee', images: 1 },
      { name: 'Zoë «Ω» 名前', images: 2 },
    ]);
  });

  it('float16 halves the matrices and stays within its rounding', () => {
    const values = Array.from({ length: 512 }, (_, i) => Math.sin(i) * 0.09);
    const big: Gallery = {
      ...gallery,
      descriptorSize: 512,
      cohort: undefined,
      people: [{ name: 'x', images: [{ file: 'x.jpg', sha256: 'd'.repeat(64), descriptor: values }] }],
    };
    const f32 = galleryBytes(big, { format: 'store', dtype: 'float32' });
    const f16 = galleryBytes(big, { format: 'store', dtype: 'float16' });
    expect(f16.length).toBeLessThan(f32.length - 900);
    const back = galleryFromBytes(f16, MODEL, 'g') as CompiledGallery;
    expect(back.storedAs).toBe('float16');
    for (let i = 0; i < 512; i++)
      expect(Math.abs(back.images[i] - values[i])).toBeLessThanOrEqual(Math.abs(values[i]) / 2048 + 1e-7);
  });

  it("carries each row's |row|^2 of the values as stored, so a load makes no pass over the matrix", () => {
    for (const dtype of ['float16', 'float32'] as const) {
      const store = galleryFromBytes(
        galleryBytes(gallery, { format: 'store', dtype }),
        MODEL,
        'g',
      ) as CompiledGallery;
      expect(Array.from(store.imageNorms!)).toEqual(
        Array.from(rowSquaredNorms(store.images, store.images.length / 4, 4)),
      );
    }
  });

  it('float16 rounds at the edges as IEEE does: zeros, tiny values, the largest half, overflow', () => {
    const edge: Gallery = {
      ...gallery,
      cohort: undefined,
      people: [
        { name: 'e', images: [{ file: 'e', sha256: 'e'.repeat(64), descriptor: [0, 1e-6, 65504, 1e6] }] },
      ],
    };
    const back = galleryFromBytes(
      galleryBytes(edge, { format: 'store', dtype: 'float16' }),
      MODEL,
      'g',
    ) as CompiledGallery;
    expect(back.images[0]).toBe(0);
    expect(back.images[1]).toBe(17 * 2 ** -24); // the nearest subnormal half
    expect(back.images[2]).toBe(65504);
    expect(back.images[3]).toBe(Infinity);
  });

  it('carries the stranger sample, so a large gallery is not measured again at load', async () => {
    const sample = await measureStrangers(gallery, 'mobilefacenet');
    const store = decodeGalleryStore(
      encodeGalleryStore(compileGallery(gallery), { dtype: 'float32', strangerSample: sample }),
      'g',
    );
    expect(store.strangerSample).toEqual(sample);
    // written again without a new sample: the one it has is kept
    const again = decodeGalleryStore(encodeGalleryStore(store, { dtype: 'float16' }), 'g');
    expect(again.strangerSample).toEqual(sample);
  });

  it('refuses a person with no photo, and a calibration distance that is not a number', async () => {
    const ghost = { ...gallery, people: [...gallery.people, { name: 'ghost', images: [] }] };
    expect(() =>
      decodeGalleryStore(encodeGalleryStore(compileGallery(ghost), { dtype: 'float32' }), 'g'),
    ).toThrow(/g: not a readable gallery store \(counts: ghost has no photo\)/);
    const sample = await measureStrangers(gallery, 'mobilefacenet');
    sample.distance[0] = NaN;
    expect(() =>
      decodeGalleryStore(
        encodeGalleryStore(compileGallery(gallery), { dtype: 'float32', strangerSample: sample }),
        'g',
      ),
    ).toThrow(/calibration: a distance is not a number/);
  });

  it('refuses damaged and foreign files, saying why; JSON still reads through the same reader', async () => {
    const bytes = galleryBytes(gallery, { format: 'store', dtype: 'float32' });
    expect(() => galleryFromBytes(bytes.subarray(0, bytes.length - 10), MODEL, 'cut.store')).toThrow(
      /cut.store: not a readable gallery store \(.*truncated/,
    );
    const future = Uint8Array.from(bytes);
    new DataView(future.buffer).setUint32(8, 9, true);
    expect(() => galleryFromBytes(future, MODEL, 'new.store')).toThrow(/format version 9.*update facerec/);
    expect(() => galleryFromBytes(bytes, 'other-model', 'g.store')).toThrow(/built for model 'test-model'/);
    const mangled = Uint8Array.from(bytes);
    mangled[20] = 0x7b; // '{' in the middle of the header's JSON
    mangled[21] = 0x7b;
    expect(() => galleryFromBytes(mangled, MODEL, 'g.store')).toThrow(
      /GalleryError|not a readable gallery store/,
    );
    // the JSON form, from a file, through the same reader
    const dir = await mkdtemp(path.join(os.tmpdir(), 'store-'));
    await writeFile(path.join(dir, 'g.json'), serializeGallery(gallery));
    await writeFile(path.join(dir, 'g.store'), bytes);
    expect(await readGallery(path.join(dir, 'g.json'), MODEL)).toEqual(gallery);
    expect(galleryDocument(await readGallery(path.join(dir, 'g.store'), MODEL))).toEqual(gallery);
  });

  it('an empty gallery is a valid store (nobody: every face Unknown)', () => {
    const empty: Gallery = { version: 1, modelId: MODEL, descriptorSize: 4, people: [] };
    const store = galleryFromBytes(galleryBytes(empty, { format: 'store' }), MODEL, 'g') as CompiledGallery;
    expect(store.names).toEqual([]);
    expect(store.images.length).toBe(0);
    expect(galleryDocument(store)).toEqual(empty);
  });
});
