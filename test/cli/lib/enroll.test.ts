import { enrollPeople, pickMainFace, sha256 } from '#cli/lib/enroll.js';
import type { AnalyzeOptions, AnalyzedFace, FaceEngine } from '#functions/core/faces/engine.js';
import { parseGallery } from '#functions/core/gallery.js';

const face = (x: number, y: number, side: number): AnalyzedFace => ({
  box: { x, y, width: side, height: side },
  score: 0.99,
  landmarks: [],
  descriptor: new Float32Array(4),
});

describe('the main face of a single-face task', () => {
  it('refuses only when there is no face', () => {
    expect(pickMainFace([], 100, 100)).toEqual({ face: null, reason: 'no face found' });
  });

  it('takes a face twice as large as the others, wherever it is, without a note', () => {
    const big = face(0, 0, 50);
    const pick = pickMainFace([face(40, 40, 20), big], 200, 200);
    expect(pick.face).toBe(big);
    expect('note' in pick && pick.note).toBeFalsy();
  });

  it('among faces of similar size takes the one nearest the centre, and says so', () => {
    const centred = face(90, 90, 40); // centre (110,110) of a 220x220 image
    const pick = pickMainFace([face(0, 0, 50), centred, face(170, 170, 45)], 220, 220);
    expect(pick.face).toBe(centred);
    expect('note' in pick && pick.note).toMatch(/3 faces, none twice as large.*nearest the centre/);
  });

  it('weighs the distance by size: a larger face may sit further out', () => {
    // both 40 px off centre, the larger one wins
    const larger = face(100 - 40 - 30, 100 - 30, 60);
    const smaller = face(100 + 40 - 22, 100 - 22, 44);
    expect(pickMainFace([smaller, larger], 200, 200).face).toBe(larger);
  });
});

describe('enrolling again into a gallery made by another enrollment recipe', () => {
  /** An engine whose enrolled descriptor says which recipe made it: [1,0] single view, [0,1] views. */
  const engineWith = (recipe: string) => {
    const calls: string[] = [];
    const engine = {
      modelId: 'stand-in-model',
      enrollmentRecipe: recipe,
      descriptorSize: 2,
      loadMs: 0,
      config: {} as FaceEngine['config'],
      async analyzeFaces(bytes: Uint8Array, options: AnalyzeOptions = {}) {
        calls.push(Buffer.from(bytes).toString());
        const descriptor = Float32Array.from(options.enrollment && recipe === 'views:new' ? [0, 1] : [1, 0]);
        return {
          width: 100,
          height: 100,
          faces: Buffer.from(bytes).toString() === 'faceless' ? [] : [{ ...face(30, 30, 40), descriptor }],
          timings: { decodeMs: 0, detectMs: 0, landmarksMs: 0, descriptorMs: 0 },
        };
      },
      identifyFaces: () => Promise.reject(new Error('not used')),
    } satisfies FaceEngine;
    return { engine, calls };
  };
  const photo = (person: string, text: string) => ({
    person,
    file: `${person}/${text}.jpg`,
    bytes: Buffer.from(text),
  });

  it('re-describes the images of the older recipe (or none recorded), reports them, and keeps the rest', async () => {
    const images = [photo('ann', 'a1'), photo('ann', 'a2'), photo('bob', 'b1')];
    const old = (await enrollPeople(engineWith('views:old').engine, images)).gallery;
    expect(old.people.flatMap((p) => p.images.map((i) => i.recipe))).toEqual([
      'views:old',
      'views:old',
      'views:old',
    ]);
    // A gallery written before recipes were recorded: no recipe on its images.
    const legacy = parseGallery(
      JSON.parse(
        JSON.stringify({
          ...old,
          people: old.people.map((p) => ({ ...p, images: p.images.map(({ recipe: _, ...i }) => i) })),
        }),
      ),
      'stand-in-model',
    );
    expect(legacy.people[0].images[0].recipe).toBeUndefined();

    for (const [before, was] of [
      [old, 'views:old'],
      [legacy, undefined],
    ] as const) {
      const { engine, calls } = engineWith('views:new');
      const { gallery, report } = await enrollPeople(engine, images.slice(0, 2), before);
      expect(calls).toEqual(['a1', 'a2']);
      expect(report.refreshed).toEqual([
        { person: 'ann', file: 'ann/a1.jpg', was },
        { person: 'ann', file: 'ann/a2.jpg', was },
      ]);
      expect(report.enrolled).toEqual([]);
      expect(report.reused).toEqual([]);
      const ann = gallery.people.find((p) => p.name === 'ann')!;
      expect(ann.images.map((i) => [i.descriptor, i.recipe])).toEqual([
        [[0, 1], 'views:new'],
        [[0, 1], 'views:new'],
      ]);
      // bob was not in this enrollment: kept as he was (the next enrollment of him refreshes him)
      expect(gallery.people.find((p) => p.name === 'bob')!.images[0].descriptor).toEqual([1, 0]);

      // Once refreshed, enrolling again describes nothing.
      const again = engineWith('views:new');
      const third = await enrollPeople(again.engine, images.slice(0, 2), gallery);
      expect(again.calls).toEqual([]);
      expect(third.report.reused).toHaveLength(2);
      expect(third.report.refreshed).toEqual([]);
    }
  });

  it('keeps the earlier descriptor when an image cannot be described again', async () => {
    const images = [photo('ann', 'faceless')];
    const old = parseGallery(
      {
        version: 1,
        modelId: 'stand-in-model',
        descriptorSize: 2,
        people: [
          {
            name: 'ann',
            images: [
              { file: 'ann/faceless.jpg', sha256: sha256(Buffer.from('faceless')), descriptor: [1, 0] },
            ],
          },
        ],
      },
      'stand-in-model',
    );
    const { gallery, report } = await enrollPeople(engineWith('views:new').engine, images, old);
    expect(report.notRefreshed).toEqual([
      { person: 'ann', file: 'ann/faceless.jpg', reason: 'no face found' },
    ]);
    expect(report.skipped).toEqual([]);
    expect(gallery.people[0].images).toEqual(old.people[0].images);
  });
});
