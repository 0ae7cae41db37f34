import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  enrollPeople,
  pickMainFace,
  reviewGallery,
  sha256,
  type JournalOutcome,
} from '#functions/core/gallery/enroll.js';
import type { AnalyzeOptions, AnalyzedFace, FaceEngine } from '#functions/core/faces/engine.js';
import { compileGallery, parseGallery, type Gallery } from '#functions/core/gallery/read.js';
import { measureStrangers } from '#functions/core/faces/open-set.js';

const face = (x: number, y: number, side: number): AnalyzedFace => ({
  box: { x, y, width: side, height: side },
  score: 0.99,
  landmarks: [],
  descriptor: new Float32Array(4),
});

/** A stand-in engine: `facesOf` says what a photo (its bytes as text) holds; the calls are recorded. */
function standInEngine(
  recipe: string,
  facesOf: (text: string, options: AnalyzeOptions) => AnalyzedFace[],
  size = { width: 100, height: 100 },
) {
  const calls: string[] = [];
  const engine = {
    modelId: 'stand-in-model',
    enrollmentRecipe: recipe,
    descriptorSize: 2,
    loadMs: 0,
    config: {} as FaceEngine['config'],
    async analyzeFaces(bytes: Uint8Array, options: AnalyzeOptions = {}) {
      const text = Buffer.from(bytes).toString();
      calls.push(text);
      return {
        ...size,
        faces: facesOf(text, options),
        timings: { decodeMs: 0, detectMs: 0, landmarksMs: 0, descriptorMs: 0 },
      };
    },
    identifyFaces: () => Promise.reject(new Error('not used')),
  } satisfies FaceEngine;
  return { engine, calls };
}

const photo = (person: string, text: string) => ({
  person,
  file: `${person}/${text}.jpg`,
  bytes: Buffer.from(text),
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
  const engineWith = (recipe: string) =>
    standInEngine(recipe, (text, options) =>
      text === 'faceless'
        ? []
        : [
            {
              ...face(30, 30, 40),
              descriptor: Float32Array.from(options.enrollment && recipe === 'views:new' ? [0, 1] : [1, 0]),
            },
          ],
    );

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

describe('enrolling at scale: progress, resume, reports', () => {
  /** A photo's text says what it holds ('none', 'two', 'small', else one face). */
  const standIn = () =>
    standInEngine(
      'views:x',
      (text) => {
        const d = Float32Array.from([text.length, 1]);
        if (text.startsWith('none')) return [];
        if (text.startsWith('two'))
          return [
            { ...face(0, 40, 90), descriptor: d },
            { ...face(105, 40, 90), descriptor: d },
          ];
        return [{ ...face(30, 30, text.startsWith('small') ? 40 : 100), descriptor: d }];
      },
      { width: 200, height: 200 },
    );
  /** A journal in memory (the CLI's is a file: enroll-journal.test.ts). */
  const memoryJournal = () => {
    const entries = new Map<string, JournalOutcome>();
    return {
      entries,
      lookup: (p: string, sha: string, r: string) => entries.get(`${p}\n${sha}\n${r}`),
      record: (p: string, _f: string, sha: string, r: string, o: JournalOutcome) =>
        void entries.set(`${p}\n${sha}\n${r}`, o),
    };
  };

  it('reports photos with no face, several faces and a small face, each by path', async () => {
    const images = [photo('ann', 'one'), photo('ann', 'none'), photo('bob', 'two'), photo('cy', 'small')];
    const { report, gallery } = await enrollPeople(standIn().engine, images);
    expect(report.skipped).toEqual([{ person: 'ann', file: 'ann/none.jpg', reason: 'no face found' }]);
    expect(report.mainFaceChosen).toEqual([
      { person: 'bob', file: 'bob/two.jpg', note: expect.stringMatching(/^2 faces, none twice as large/) },
    ]);
    expect(report.smallFaces).toEqual([{ person: 'cy', file: 'cy/small.jpg', px: 40 }]);
    expect(gallery.people.map((p) => [p.name, p.images.length])).toEqual([
      ['ann', 1],
      ['bob', 1],
      ['cy', 1],
    ]);
  });

  it('reads photos given by path when their turn comes; one that cannot be read is reported, not fatal', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'enroll-'));
    await writeFile(path.join(dir, 'a.jpg'), 'one');
    const progress: number[] = [];
    const { report } = await enrollPeople(
      standIn().engine,
      [
        { person: 'ann', file: 'ann/a.jpg', path: path.join(dir, 'a.jpg') },
        { person: 'ann', file: 'ann/gone.jpg', path: path.join(dir, 'gone.jpg') },
      ],
      undefined,
      { progress: (done, total) => progress.push(done / total) },
    );
    expect(report.enrolled).toEqual([{ person: 'ann', file: 'ann/a.jpg' }]);
    expect(report.skipped).toEqual([
      { person: 'ann', file: 'ann/gone.jpg', reason: 'cannot read it (ENOENT)' },
    ]);
    expect(progress).toEqual([0.5, 1]);
  });

  it('resumes an interrupted run: the photos it described are not described again', async () => {
    const images = ['p1', 'p2', 'p3', 'none4', 'p5', 'p6'].map((t) => photo(`person-${t}`, t));
    const journal = memoryJournal();
    const first = standIn();
    // interrupted after the third photo (the CLI's journal survives even a kill -9: it is
    // appended synchronously, enroll-journal.ts)
    const stop = (done: number) => {
      if (done === 3) throw new Error('interrupted');
    };
    await expect(enrollPeople(first.engine, images, undefined, { journal, progress: stop })).rejects.toThrow(
      'interrupted',
    );
    expect(first.calls).toEqual(['p1', 'p2', 'p3']);
    const second = standIn();
    const { report, gallery } = await enrollPeople(second.engine, images, undefined, { journal });
    expect(second.calls).toEqual(['none4', 'p5', 'p6']);
    expect(report.resumed.map((r) => r.file)).toEqual([
      'person-p1/p1.jpg',
      'person-p2/p2.jpg',
      'person-p3/p3.jpg',
    ]);
    expect(report.enrolled).toHaveLength(5);
    expect(report.skipped.map((s) => s.file)).toEqual(['person-none4/none4.jpg']);
    expect(gallery.people).toHaveLength(5);
    // a third run (journal still there, say a crash before it was removed) describes nothing
    const third = standIn();
    await enrollPeople(third.engine, images, undefined, { journal });
    expect(third.calls).toEqual([]);
  });
});

describe('reviewing the gallery after enrollment', () => {
  const person = (name: string, ...descriptors: number[][]) => ({
    name,
    images: descriptors.map((d, i) => ({
      file: `${name}/${i}.jpg`,
      sha256: `${name}${i}`.padEnd(64, '0'),
      descriptor: d,
    })),
  });
  const at = (a: number) => [Math.cos(a), Math.sin(a), 0];

  it('names photos far from their own person, people that look like one under two names, and shared photos', async () => {
    const g: Gallery = {
      version: 1,
      modelId: 'm',
      descriptorSize: 3,
      people: [
        // ann's fourth photo is bob
        person('ann', at(0), at(0.05), at(-0.05), at(2)),
        person('bob', at(2.02), at(1.98)),
        // cy and cyrus: one person under two names
        person('cy', [0, 0, 1]),
        person('cyrus', [0, 0.02, 1]),
      ],
    };
    g.people[3].images[0].sha256 = g.people[2].images[0].sha256; // the very same file too
    const sample = await measureStrangers(g, 'mobilefacenet');
    const review = reviewGallery(compileGallery(g), sample, 0.3);
    expect(review.farPhotos).toEqual([
      {
        person: 'ann',
        file: 'ann/3.jpg',
        distance: expect.closeTo(1 - Math.cos(2), 3),
        others: 3,
        nearer: { person: 'bob', distance: expect.closeTo(0, 3) },
      },
    ]);
    expect(review.twoNames.map((t) => `${t.person}->${t.other}`)).toEqual(
      expect.arrayContaining(['cy->cyrus', 'cyrus->cy', 'ann->bob']),
    );
    expect(review.samePhoto).toEqual([{ file: 'cy/0.jpg', people: ['cy', 'cyrus'] }]);
  });
});
