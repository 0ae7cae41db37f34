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
