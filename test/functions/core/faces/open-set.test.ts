import {
  chooseThreshold,
  decideIdentities,
  decideIdentity,
  measureStrangers,
  normalQuantile,
  pairTailDistance,
  thresholdFromSample,
  type DecisionConfig,
} from '#functions/core/faces/open-set.js';
import {
  compileGallery,
  galleryFromBytes,
  parseGallery,
  type Gallery,
} from '#functions/core/gallery/read.js';
import { galleryBytes, serializeGallery } from '#functions/core/gallery/write.js';
import { pipelineModelId } from '#functions/core/faces/engine.js';
import { randomUnitRows } from '#bench/synthetic-faces.js';

const SIZE = 8;
/** A unit vector at angle `a` (radians) in the plane of axes i and j. */
function unit(i: number, a: number, j = (i + 1) % SIZE): number[] {
  const v = Array(SIZE).fill(0);
  v[i] = Math.cos(a);
  v[j] += Math.sin(a);
  return v;
}
const image = (n: number, descriptor: number[]) => ({ file: `${n}.jpg`, sha256: 'a'.repeat(64), descriptor });

/** `people` people, each 3 photos spread around their own axis. */
function gallery(people: number): Gallery {
  return {
    version: 1,
    modelId: 'm',
    descriptorSize: SIZE,
    people: Array.from({ length: people }, (_, p) => ({
      name: `p${p}`,
      images: [-0.3, 0, 0.3].map((a, k) => image(k, unit(p, a))),
    })),
  };
}

/** Seeded random unit vectors in `dim` dimensions, as arrays. */
function randomUnits(count: number, dim: number, seed: number): number[][] {
  const rows = randomUnitRows(count, dim, seed);
  return Array.from({ length: count }, (_, i) => Array.from(rows.subarray(i * dim, (i + 1) * dim)));
}

const DIM = 64;
/** One photo per person, random faces in 64 dimensions (nearest of a few hundred: ~0.6 away). */
function crowd(people: number, seed: number): Gallery {
  return {
    version: 1,
    modelId: 'm',
    descriptorSize: DIM,
    people: randomUnits(people, DIM, seed).map((d, p) => ({ name: `p${p}`, images: [image(p, d)] })),
  };
}
/** A 1:1 threshold that leaves the crowd's fitted thresholds uncapped (0.45-0.9). */
const wide = 0.9;

const calibrated: DecisionConfig = {
  descriptor: 'mobilefacenet',
  matchThreshold: 0.65,
  matchThresholdFixed: false,
  openSetRule: true,
};

describe('the threshold: a stated share of strangers, measured on the gallery itself', () => {
  it('fits the nearest distances of every enrolled photo searched among the other people', async () => {
    const g = crowd(300, 1);
    const choice = await chooseThreshold(g, { ...calibrated, matchThreshold: wide });
    expect(choice.rule).toBe('gallery-calibrated');
    expect(choice.pseudoStrangers).toBe(300);
    expect(choice.strangerFalseAccept).toBe(0.002);
    // the same fit, done here by hand: each photo's nearest other person
    const d = g.people.map((p, i) =>
      Math.min(
        ...g.people
          .filter((_, j) => j !== i)
          .map((q) => 1 - p.images[0].descriptor.reduce((s, x, k) => s + x * q.images[0].descriptor[k], 0)),
      ),
    );
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
    const perSearch = 1 - (1 - 0.002) ** (299 / 300);
    expect(choice.threshold).toBeCloseTo(mean + normalQuantile(perSearch) * sd, 5);
    expect(choice.reason).toMatch(/aiming at 0\.2% of strangers \(1 in 500 searches\) named as someone/);
    expect(choice.reason).toMatch(
      /300 enrolled photos, each searched as a stranger among the other 299 people/,
    );
    expect(choice.reason).toMatch(
      /No one has two photos, so what it costs the enrolled cannot be measured here/,
    );
  });

  it('lets through about the stated share of strangers it has never seen', async () => {
    const g = crowd(400, 2);
    const config = { ...calibrated, matchThreshold: wide, strangerFalseAccept: 0.01 };
    const strangers = randomUnits(20_000, DIM, 3);
    const matches = await decideIdentities(g, strangers, config);
    const accepted = matches.filter((m) => m.name !== 'Unknown').length / strangers.length;
    // A normal fit of 400 nearest distances. Random directions have a heavier near tail than
    // faces: here it lets through ~3x the share (on LFW faces it stays under it,
    // docs/benchmarks.md); the bound says it is of that order, not off by ten.
    expect(accepted).toBeGreaterThan(0.003);
    expect(accepted).toBeLessThan(0.04);
  });

  it('grows stricter as the gallery grows (the nearest of more people comes closer)', async () => {
    const everyone = crowd(800, 4);
    const at = async (n: number) =>
      (
        await chooseThreshold(
          { ...everyone, people: everyone.people.slice(0, n) },
          { ...calibrated, matchThreshold: wide },
        )
      ).threshold;
    const [t100, t200, t800] = [await at(100), await at(200), await at(800)];
    expect(t200).toBeLessThan(t100);
    expect(t800).toBeLessThan(t200);
  });

  it('a larger stated share gives a laxer threshold', async () => {
    const g = crowd(200, 5);
    const strict = await chooseThreshold(g, {
      ...calibrated,
      matchThreshold: wide,
      strangerFalseAccept: 0.001,
    });
    const lax = await chooseThreshold(g, { ...calibrated, matchThreshold: wide, strangerFalseAccept: 0.05 });
    expect(lax.threshold).toBeGreaterThan(strict.threshold);
  });

  it('says what the threshold costs the enrolled (their own other photos)', async () => {
    const choice = await chooseThreshold(gallery(6), calibrated);
    expect(choice.ownPass).toEqual({ within: 18, of: 18 });
    expect(choice.reason).toMatch(/own person's other photos: 18 of 18 within it/);
  });
});

describe('small galleries, one person, no one', () => {
  it('too few searches to measure: held to how often different faces come that close, per person compared', async () => {
    for (const people of [2, 5]) {
      const choice = await chooseThreshold(gallery(people), calibrated);
      expect(choice.pseudoStrangers).toBe(people * 3);
      // each of N comparisons may err with share ~ 0.2% / N
      const expected = Math.min(0.65, pairTailDistance('mobilefacenet', 1 - (1 - 0.002) ** (1 / people)));
      expect(choice.threshold).toBeCloseTo(expected, 6);
      expect(choice.reason).toMatch(
        new RegExp(`only ${people * 3} enrolled photos can be searched as strangers`),
      );
    }
    // more people compared: each comparison must err less often
    expect((await chooseThreshold(gallery(5), calibrated)).threshold).toBeLessThan(
      (await chooseThreshold(gallery(2), calibrated)).threshold,
    );
  });

  it('with 20 to 199 searches takes the stricter of the gallery and the descriptor', async () => {
    const g = crowd(50, 6);
    const choice = await chooseThreshold(g, calibrated);
    expect(choice.reason).toMatch(/the stricter is taken/);
    expect(choice.threshold).toBeLessThanOrEqual(
      pairTailDistance('mobilefacenet', 1 - (1 - 0.002) ** (1 / 50)) + 1e-9,
    );
  });

  it('one person: a clear decision, the 1:1 comparison', async () => {
    const one = gallery(1);
    const choice = await chooseThreshold(one, calibrated);
    expect(choice.rule).toBe('gallery-calibrated');
    expect(choice.threshold).toBeLessThanOrEqual(0.65);
    expect(choice.reason).toMatch(/one person is enrolled, so no photo can be searched as a stranger/);
    expect((await decideIdentity(one, unit(0, 0.1), calibrated)).name).toBe('p0');
  });

  it('no one: every face is Unknown, and it says so', async () => {
    const none = gallery(0);
    const choice = await chooseThreshold(none, calibrated);
    expect(choice).toMatchObject({ rule: 'empty', reason: 'no one is enrolled: every face is Unknown.' });
    expect(await decideIdentity(none, unit(0, 0), calibrated)).toEqual({
      name: 'Unknown',
      distance: null,
      nearest: null,
    });
  });

  it('never above the 1:1 threshold; never under half of it, with the reason', async () => {
    const lax = await chooseThreshold(gallery(2), { ...calibrated, matchThreshold: 0.3 });
    expect(lax.threshold).toBe(0.3);
    expect(lax.reason).toMatch(/Capped at the mobilefacenet 1:1 threshold 0\.300/);
    // everyone almost the same face: the fit goes below half the 1:1 threshold
    const twins: Gallery = {
      ...crowd(120, 7),
      people: crowd(120, 7).people.map((p, i) => ({ ...p, images: [image(i, unit(0, (i % 7) * 0.01))] })),
    };
    const raised = await chooseThreshold(twins, calibrated);
    expect(raised.threshold).toBe(0.325);
    expect(raised.reason).toMatch(/Raised to half the 1:1 threshold.*the same person under two names/);
  });
});

describe('deciding', () => {
  it('names a face by the nearest template, Unknown beyond the threshold; a batch as one by one', async () => {
    const g = gallery(6);
    expect(await decideIdentity(g, unit(2, 0.1), calibrated)).toMatchObject({ name: 'p2', nearest: 'p2' });
    // a face on axes nobody is enrolled on: there is a nearest person, but it is not them
    const stranger = await decideIdentity(g, unit(6, 0.3, 7), calibrated);
    expect(stranger.name).toBe('Unknown');
    expect(stranger.nearest).toMatch(/^p\d$/);
    const faces = [unit(2, 0.1), unit(6, 0.3, 7), unit(4, -0.2)];
    const batch = await decideIdentities(g, faces, calibrated);
    for (const [i, f] of faces.entries()) expect(batch[i]).toEqual(await decideIdentity(g, f, calibrated));
  });

  it('a fixed threshold (or the rule off) keeps the nearest-photo decision', async () => {
    const fixed = { ...calibrated, matchThreshold: 0.2, matchThresholdFixed: true };
    expect(await chooseThreshold(gallery(6), fixed)).toMatchObject({ rule: 'fixed', threshold: 0.2 });
    expect((await chooseThreshold(gallery(6), { ...calibrated, openSetRule: false })).rule).toBe('fixed');
    // 1 - cos(0.25) = 0.031 from p1's photo at angle 0.3, under 0.2
    expect(await decideIdentity(gallery(6), unit(1, 0.55), fixed)).toMatchObject({ name: 'p1' });
  });

  it('a store decides as its JSON gallery does, with the stranger sample it carries', async () => {
    const g = crowd(250, 8); // 250 searches: the gallery's own fit alone
    const config = { ...calibrated, matchThreshold: wide };
    const sample = await measureStrangers(g, 'mobilefacenet');
    const store = galleryFromBytes(
      galleryBytes(g, { format: 'store', dtype: 'float32', strangerSample: sample }),
      'm',
      'x',
    );
    expect((await chooseThreshold(store, config)).threshold).toBeCloseTo(
      (await chooseThreshold(g, config)).threshold,
      6,
    );
    const faces = randomUnits(50, DIM, 9);
    expect((await decideIdentities(store, faces, config)).map((m) => m.nearest)).toEqual(
      (await decideIdentities(g, faces, config)).map((m) => m.nearest),
    );
    // the stored sample is used as is (not measured again): a doctored one moves the threshold
    const doctored = { ...sample, distance: sample.distance.map((d) => d + 0.05) };
    const moved = galleryFromBytes(
      galleryBytes(g, { format: 'store', dtype: 'float32', strangerSample: doctored }),
      'm',
      'x',
    );
    expect((await chooseThreshold(moved, config)).threshold).toBeCloseTo(
      thresholdFromSample(doctored, config).threshold,
      6,
    );
    expect(thresholdFromSample(doctored, config).threshold).toBeGreaterThan(
      (await chooseThreshold(g, config)).threshold,
    );
  });

  it('older galleries (with a cohort, without a recipe) still load and decide', async () => {
    const g = { ...gallery(3), cohort: { source: 'test', descriptors: [unit(6, 0.5, 7)] } };
    const parsed = parseGallery(JSON.parse(serializeGallery(g)), 'm');
    expect(compileGallery(parsed).cohort.length).toBe(SIZE);
    expect((await chooseThreshold(parsed, calibrated)).pseudoStrangers).toBe(9);
    const bad = { ...gallery(3), cohort: { source: 'test', descriptors: [[1, 2]] } };
    expect(() => parseGallery(bad, 'm')).toThrow(/cohort descriptor has 2 values, expected 8/);
  });
});

describe('the pair tail', () => {
  it('interpolates between measured points and extends the end slope', () => {
    expect(pairTailDistance('mobilefacenet', 1e-3)).toBeCloseTo(0.659, 6);
    expect(pairTailDistance('mobilefacenet', 1e-4)).toBeCloseTo(0.584, 6);
    const mid = pairTailDistance('mobilefacenet', Math.sqrt(1e-3 * 3e-4));
    expect(mid).toBeCloseTo((0.659 + 0.617) / 2, 6);
    expect(pairTailDistance('mobilefacenet', 1e-6)).toBeLessThan(0.542);
    expect(pairTailDistance('mobilefacenet', 0.05)).toBeGreaterThan(0.755);
  });

  it('normal quantiles', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306, 6);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 6);
  });
});

describe('galleries and the descriptor', () => {
  const settings = { alignment: 'dlib-chip', mirrorDescriptor: true, landmarkRefinement: 0 } as const;

  it("keeps dlib-resnet's model id, so galleries enrolled before still load", () => {
    expect(pipelineModelId({ ...settings, descriptor: 'dlib-resnet' })).toBe(
      'dlib-resnet-v1@face-api-1.7.15/dlib-chip+mirror',
    );
  });

  it('refuses a gallery of the other descriptor, saying how to fix it', () => {
    const dlib = { ...gallery(3), modelId: pipelineModelId({ ...settings, descriptor: 'dlib-resnet' }) };
    const mfn = pipelineModelId({ ...settings, mirrorDescriptor: false, descriptor: 'mobilefacenet' });
    expect(mfn).toBe('mobilefacenet-512@faceplugin-face-recognition-js-0.0.1/arcface-112-span+square110');
    expect(() => parseGallery(dlib, mfn)).toThrow(
      /built for model 'dlib-resnet.*facerec enroll.*FACEREC_DESCRIPTOR/,
    );
  });
});
