import {
  describeSampling,
  parseSampling,
  planSamples,
  samplingText,
  segmentSeconds,
  segmentsOf,
  tickOf,
  TooLongError,
} from '#functions/core/sampling.js';
import { loadConfig } from '#functions/config.js';
import { readSettings } from '#infra/aws/settings.js';

describe('sampling settings', () => {
  test.each([
    ['10', { kind: 'count', frames: 10 }, '10'],
    ['10 frames', { kind: 'count', frames: 10 }, '10'],
    ['1/s', { kind: 'rate', periodSec: 1 }, '1/s'],
    ['2/s', { kind: 'rate', periodSec: 0.5 }, '2/s'],
    ['30/min', { kind: 'rate', periodSec: 2 }, '30/min'],
    ['1/10s', { kind: 'rate', periodSec: 10 }, '6/min'],
    ['120/h', { kind: 'rate', periodSec: 30 }, '2/min'],
    ['1 per minute', { kind: 'rate', periodSec: 60 }, '1/min'],
  ])('%s', (text, sampling, short) => {
    expect(parseSampling(text)).toEqual(sampling);
    expect(samplingText(parseSampling(text))).toBe(short);
    expect(parseSampling(samplingText(parseSampling(text)))).toEqual(sampling);
  });

  test.each(['0', '-1', '1/0s', 'fast', '100/s', '1/parsec', ''])(
    'refused with what is accepted: %j',
    (text) => {
      expect(() => parseSampling(text)).toThrow(/number of frames .* or a rate/);
    },
  );

  test('in words', () => {
    expect(describeSampling({ kind: 'count', frames: 1 })).toBe('1 frame spread over the video');
    expect(describeSampling({ kind: 'rate', periodSec: 1 })).toBe('1 frame a second');
    expect(describeSampling({ kind: 'rate', periodSec: 2 })).toBe('30 frames a minute');
    expect(describeSampling({ kind: 'rate', periodSec: 3.3333333 })).toBe('18 frames a minute');
    expect(describeSampling({ kind: 'rate', periodSec: 7 })).toBe('1 frame every 7 s');
  });

  test('FACEREC_SAMPLE in the configuration: a rate, a count, FACEREC_FRAMES when unset, a clear error', () => {
    expect(loadConfig({ FACEREC_SAMPLE: '1/s' }).pipeline.frames.sampling).toEqual({
      kind: 'rate',
      periodSec: 1,
    });
    expect(loadConfig({ FACEREC_SAMPLE: '12' }).pipeline.frames.sampling).toEqual({
      kind: 'count',
      frames: 12,
    });
    expect(loadConfig({ FACEREC_FRAMES: '7' }).pipeline.frames.sampling).toEqual({
      kind: 'count',
      frames: 7,
    });
    expect(loadConfig({}).pipeline.frames).toMatchObject({
      max: 10_800,
      tooLong: 'spread',
      mapRunBatchSize: 25,
    });
    expect(() => loadConfig({ FACEREC_SAMPLE: 'often' })).toThrow(/a rate up to 30\/s/);
    expect(() => loadConfig({ FACEREC_TOO_LONG: 'ignore' })).toThrow();
  });

  test('the deployment settings -c sample and -c tooLong, checked at synth time', () => {
    const read = (ctx: Record<string, string>) => readSettings((k) => ctx[k]);
    expect(read({ sample: '1/s', tooLong: 'refuse' })).toMatchObject({ sample: '1/s', tooLong: 'refuse' });
    expect(read({})).toMatchObject({ sample: undefined, tooLong: undefined });
    expect(() => read({ sample: 'often' })).toThrow(
      /-c sample=\.\.\.: a number of frames spread over each video/,
    );
    expect(() => read({ tooLong: 'ignore' })).toThrow(/-c tooLong/);
  });
});

describe('planSamples', () => {
  const limits = { maxFrames: 10_800, tooLong: 'spread' as const };

  test('count: N times spread over the video, whatever its length', () => {
    expect(planSamples({ kind: 'count', frames: 4 }, 60, limits)).toEqual({
      kind: 'count',
      times: [0, 15, 30, 45],
      requested: 4,
    });
    const hour = planSamples({ kind: 'count', frames: 10 }, 3600, limits);
    expect(hour.kind === 'count' && hour.times).toEqual([
      0, 360, 720, 1080, 1440, 1800, 2160, 2520, 2880, 3240,
    ]);
    const capped = planSamples({ kind: 'count', frames: 50 }, 60, { ...limits, maxFrames: 4 });
    expect(capped).toMatchObject({
      times: [0, 15, 30, 45],
      requested: 50,
      capped: { rule: 'cap', maxFrames: 4 },
    });
  });

  test('rate: one frame a second over an hour is 3,600 frames', () => {
    expect(planSamples({ kind: 'rate', periodSec: 1 }, 3600, limits)).toEqual({
      kind: 'rate',
      periodSec: 1,
      endSec: 3600,
      expectedFrames: 3600,
      maxFrames: 10_800,
    });
  });

  test('10 hours at one frame a second: spread over the whole video, capped to its start, or refused', () => {
    const tenHours = 36_000;
    const spread = planSamples({ kind: 'rate', periodSec: 1 }, tenHours, limits);
    expect(spread).toMatchObject({ periodSec: 36_000 / 10_800, endSec: tenHours, expectedFrames: 10_800 });
    expect(spread.capped).toMatchObject({
      rule: 'spread',
      asked: '1/s',
      wouldTake: 36_000,
      maxFrames: 10_800,
    });
    expect(spread.capped!.note).toMatch(
      /10:00:00 at 1 frame a second is 36000 frames.*whole video was sampled at 18 frames a minute/,
    );

    const cap = planSamples({ kind: 'rate', periodSec: 1 }, tenHours, { ...limits, tooLong: 'cap' });
    expect(cap).toMatchObject({ periodSec: 1, endSec: 10_800, expectedFrames: 10_800 });
    expect(cap.capped!.note).toMatch(/only the first 3:00:00 was sampled/);

    expect(() =>
      planSamples({ kind: 'rate', periodSec: 1 }, tenHours, { ...limits, tooLong: 'refuse' }),
    ).toThrow(TooLongError);
    expect(() =>
      planSamples({ kind: 'rate', periodSec: 1 }, tenHours, { ...limits, tooLong: 'refuse' }),
    ).toThrow(
      /too long for its sampling: 10:00:00 at 1 frame a second is 36000 frames; at most 10800 are allowed \(FACEREC_MAX_FRAMES\)/,
    );
  });
});

describe('segments', () => {
  test('boundaries on the sampling grid, covering the range once, about the target length', () => {
    const s = segmentsOf({ periodSec: 1, endSec: 3600 }, { targetSec: 977 });
    expect(s.map((x) => [x.startSec, x.endSec])).toEqual([
      [0, 900],
      [900, 1800],
      [1800, 2700],
      [2700, 3600],
    ]);
    expect(s.every((x) => x.of === 4)).toBe(true);
    const odd = segmentsOf({ periodSec: 0.4, endSec: 100.1 }, { targetSec: 30 });
    for (const x of odd.slice(1)) {
      const ticks = x.startSec / 0.4;
      expect(Math.abs(ticks - Math.round(ticks))).toBeLessThan(1e-6);
    }
    expect(odd.at(-1)!.endSec).toBe(100.1);
    expect(odd.map((x) => x.index)).toEqual(odd.map((_, i) => i));
    expect(segmentsOf({ periodSec: 1, endSec: 3 }, { targetSec: 1 })).toHaveLength(3);
    expect(segmentsOf({ periodSec: 10, endSec: 5 }, { targetSec: 1 })).toHaveLength(1);
  });

  test('segment length follows the decoding work, within 1 to 30 minutes', () => {
    expect(segmentSeconds({ width: 1280, height: 720, fps: 25, referenceFramesOnly: true })).toBe(977);
    expect(segmentSeconds({ width: 1920, height: 1080, fps: 30 })).toBe(217);
    expect(segmentSeconds({ width: 3840, height: 2160, fps: 60 })).toBe(60);
    expect(segmentSeconds({ width: 160, height: 120, fps: 25 })).toBe(1800);
    expect(segmentSeconds({})).toBe(217);
  });

  test('tickOf: the grid tick a frame belongs to', () => {
    expect(tickOf(0, 1)).toBe(0);
    expect(tickOf(2.999999, 1)).toBe(2);
    expect(tickOf(3, 1)).toBe(3);
    expect(tickOf(0.6, 0.2)).toBe(3);
  });
});
