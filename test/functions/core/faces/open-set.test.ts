import { chooseThreshold, decideIdentity, type DecisionConfig } from '#functions/core/faces/open-set.js';
import { parseGallery, serializeGallery, type Gallery } from '#functions/core/gallery.js';
import { pipelineModelId } from '#functions/core/faces/engine.js';

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
function gallery(people: number, cohort?: number[][]): Gallery {
  return {
    version: 1,
    modelId: 'm',
    descriptorSize: SIZE,
    people: Array.from({ length: people }, (_, p) => ({
      name: `p${p}`,
      images: [-0.3, 0, 0.3].map((a, k) => image(k, unit(p, a))),
    })),
    ...(cohort ? { cohort: { source: 'test', descriptors: cohort } } : {}),
  };
}

const calibrated: DecisionConfig = {
  descriptor: 'mobilefacenet',
  matchThreshold: 0.65,
  matchThresholdFixed: false,
  openSetRule: true,
};

describe('the 1:N decision', () => {
  it('calibrates the threshold on the gallery and says why; never above the 1:1 threshold', () => {
    const g = gallery(6);
    const choice = chooseThreshold(g, calibrated);
    expect(choice.rule).toBe('gallery-calibrated');
    expect(choice.pseudoStrangers).toBe(18);
    expect(choice.threshold).toBeLessThanOrEqual(0.65);
    expect(choice.reason).toMatch(
      /calibrated on this gallery: 18 stand-in stranger searches \(18 enrolled photos among the other 5 people, 0 cohort faces\)/,
    );
  });

  it('names a face by the nearest template, Unknown beyond the threshold', () => {
    const g = gallery(6);
    expect(decideIdentity(g, unit(2, 0.1), calibrated)).toMatchObject({ name: 'p2', nearest: 'p2' });
    // a face on axes nobody is enrolled on: there is a nearest person, but it is not them
    const stranger = decideIdentity(g, unit(6, 0.3, 7), calibrated);
    expect(stranger.name).toBe('Unknown');
    expect(stranger.nearest).toMatch(/^p\d$/);
  });

  it('uses the 1:1 threshold when most people have one photo (their spread is unknown)', () => {
    const g = gallery(12);
    for (const p of g.people) p.images = p.images.slice(0, 1);
    const choice = chooseThreshold(g, calibrated);
    expect(choice.threshold).toBe(0.65);
    expect(choice.reason).toMatch(/most people have one photo/);
  });

  it('says what the threshold costs the enrolled', () => {
    expect(chooseThreshold(gallery(6), calibrated).reason).toMatch(/18\/18 enrolled photos pass/);
  });

  it('uses the 1:1 threshold when the gallery is too small to calibrate on', () => {
    const choice = chooseThreshold(gallery(2), calibrated);
    expect(choice.threshold).toBe(0.65);
    expect(choice.reason).toMatch(/too few to calibrate/);
  });

  it('adds cohort faces as stand-in strangers, except those that are an enrolled photo', () => {
    const cohort = [unit(6, 0.5, 7), unit(7, 0.2, 6), unit(0, 0)]; // the last is p0's own photo
    const choice = chooseThreshold(gallery(2, cohort), calibrated);
    expect(choice.pseudoStrangers).toBe(6 + 2);
    expect(choice.reason).toMatch(/2 cohort faces/);
  });

  it('a fixed threshold (or the rule off) keeps the nearest-photo decision', () => {
    const fixed = { ...calibrated, matchThreshold: 0.2, matchThresholdFixed: true };
    expect(chooseThreshold(gallery(6), fixed)).toMatchObject({ rule: 'fixed', threshold: 0.2 });
    expect(chooseThreshold(gallery(6), { ...calibrated, openSetRule: false }).rule).toBe('fixed');
    // 1 - cos(0.25) = 0.031 from p1's photo at angle 0.3, under 0.2
    expect(decideIdentity(gallery(6), unit(1, 0.55), fixed)).toMatchObject({ name: 'p1' });
  });

  it('older galleries without a cohort still load; a cohort of the wrong size is refused', () => {
    const g = gallery(3);
    const parsed = parseGallery(JSON.parse(serializeGallery(g)), 'm');
    expect(parsed.cohort).toBeUndefined();
    expect(chooseThreshold(parsed, calibrated).pseudoStrangers).toBe(9);
    const bad = gallery(3, [[1, 2]]);
    expect(() => parseGallery(bad, 'm')).toThrow(/cohort descriptor has 2 values, expected 8/);
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
