import {
  emptyGallery,
  galleryFromText,
  galleryId,
  GalleryError,
  parseGallery,
  readGallery,
  serializeGallery,
  type Gallery,
} from '#functions/core/gallery.js';
import { matchDescriptor } from '#functions/core/faces/match.js';
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

describe('matchDescriptor', () => {
  it('names the nearest person within the threshold', () => {
    expect(matchDescriptor(gallery, vec(0.1, 1.9), 0.6)).toMatchObject({ name: 'raj', nearest: 'raj' });
    expect(matchDescriptor(gallery, vec(0.9, 0.1), 0.6).distance).toBeCloseTo(Math.SQRT2 * 0.1, 6);
  });

  it('says Unknown beyond the threshold but still reports the nearest', () => {
    expect(matchDescriptor(gallery, vec(5, 5), 0.6)).toMatchObject({ name: 'Unknown', nearest: 'raj' });
  });

  it('says Unknown with no distance for an empty gallery', () => {
    expect(matchDescriptor(emptyGallery(MODEL, 4), vec(1), 0.6)).toEqual({
      name: 'Unknown',
      distance: null,
      nearest: null,
    });
  });
});
