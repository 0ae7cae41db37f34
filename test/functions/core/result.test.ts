import type { FrameResult, ResultInput } from '#functions/core/contracts.js';
import { bucketNames } from '#functions/core/layout.js';
import {
  planFailure,
  planResult,
  summaryPeople,
  SUMMARY_INTERVALS,
  SUMMARY_PEOPLE_BYTES,
  tallyBatches,
  type ResultRules,
} from '#functions/core/result.js';
import { jsonBytes } from '#functions/core/batches.js';
import { ResultOutputSchema, type Person } from '#functions/core/contracts.js';
import { face, frame } from '#test/support/frame-results.js';

const buckets = bucketNames('facerec');
const rules = (over: Partial<ResultRules> = {}): ResultRules => ({
  profile: 'default',
  buckets,
  threshold: 0.6,
  writeDetail: true,
  ...over,
});
const now = new Date('2026-01-02T03:04:05.000Z');
const batch = (frames: FrameResult[], n: number, totalMs: number, galleryId = 'g1') => ({
  batch: n,
  frames,
  modelId: 'm1',
  galleryId,
  timings: { totalMs },
});
const failedBatch = {
  batch: 2,
  keys: ['v/f4', 'v/f5'],
  failed: true as const,
  error: 'Facerec.Internal',
  cause: '{"errorType":"Facerec.Internal","errorMessage":"boom in /var/task/index.mjs"}',
};
const input = (batches: ResultInput['batches']): ResultInput => ({
  video: { bucket: 'facerec-input', key: 'v.mp4', stem: 'v' },
  batches,
  execution: 'arn:exec',
  startedAt: '2026-01-02T03:04:00.000Z',
});

describe('core/result.ts', () => {
  test('tallyBatches: frames in order, failed batches with scrubbed reasons, timings and ids', () => {
    const t = tallyBatches([
      batch([frame('v/f0', face('Raj', 0.3)), frame('v/f1')], 0, 40),
      batch([frame('v/f2')], 1, 70, 'g2'),
      failedBatch,
    ]);
    expect(t.frames.map((f) => f.key)).toEqual(['v/f0', 'v/f1', 'v/f2', 'v/f4', 'v/f5']);
    expect(t.frames.filter((f) => f.error).map((f) => f.key)).toEqual(['v/f4', 'v/f5']);
    expect(t.failedBatches).toHaveLength(1);
    expect(t.failedBatches[0].reason).toMatch(/boom/);
    expect(t.failedBatches[0].reason).not.toMatch(/\/var\/task/);
    expect(t).toMatchObject({
      recognitionMs: 110,
      slowestBatchMs: 70,
      modelIds: ['m1'],
      galleryIds: ['g1', 'g2'],
    });
  });

  test('planResult: the vote, the .txt with only the name, the detail and the stale failure record', () => {
    const plan = planResult(
      input([
        batch([frame('v/f0', face('Raj', 0.3)), frame('v/f1', face('Unknown', null))], 0, 40),
        failedBatch,
      ]),
      rules(),
      now,
    );
    if (plan.action !== 'write') throw new Error('expected a write');
    expect(plan.summary).toMatchObject({
      name: 'Raj',
      frames: 2,
      framesFailed: 2,
      bucket: 'facerec-output',
      outputKey: 'v.txt',
    });
    expect(plan.text).toEqual({ bucket: 'facerec-output', key: 'v.txt', body: 'Raj' });
    expect(plan.detail?.key).toBe('v.json');
    expect(plan.detail?.body).toMatchObject({
      name: 'Raj',
      frames: { analysed: 2, failed: 2 },
      timings: { recognition: { batches: 2, totalMs: 40 }, executionMs: 5000 },
      model: { id: 'm1' },
      createdAt: now.toISOString(),
    });
    expect(plan.staleFailureRecord).toEqual({ bucket: 'facerec-output', key: 'errors/v.json' });
  });

  test('planResult: no detail in the cse546 profiles, whose failure records live in the meta bucket', () => {
    const plan = planResult(
      input([batch([frame('v/f0')], 0, 1)]),
      rules({ profile: 'cse546-p2', writeDetail: false }),
      now,
    );
    if (plan.action !== 'write') throw new Error('expected a write');
    expect(plan.text.body).toBe('No face');
    expect(plan.detail).toBeUndefined();
    expect(plan.staleFailureRecord).toEqual({ bucket: 'facerec-meta', key: 'errors/v.json' });
  });

  test('planResult: the default .txt lists everyone, one name a line, most screen time first; names cannot forge lines', () => {
    const hostile = 'Eve\n\u001b[32mdone    x.mp4 -> Alice\u001b[0m';
    const frames = [
      frame('v/f0', face('Raj', 0.3), face(hostile, 0.2)),
      frame('v/f1', face('Amy', 0.4)),
      frame('v/f2', face('Amy', 0.45), face('Unknown', null)),
      frame('v/f3', face('Amy', 0.5)),
    ];
    const event = { ...input([batch(frames, 0, 10)]) };
    const plan = planResult(event, rules(), now);
    if (plan.action !== 'write') throw new Error('expected a write');
    const lines = plan.text.body.split('\n');
    expect(lines).toEqual(['Amy', 'Eve\\n\\x1b[32mdone    x.mp4 -> Alice\\x1b[0m', 'Raj']);
    expect(plan.text.body).not.toContain('\u001b');
    // The execution output: everyone, and how many faces stayed Unknown.
    expect(ResultOutputSchema.parse(plan.summary)).toMatchObject({ faces: 6, unknownFaces: 1 });
    expect(plan.summary.people.map((p) => p.name)).toEqual(['Amy', hostile, 'Raj']);
    // The cse546 profiles keep the vote's one name, byte for byte.
    for (const profile of ['cse546-p1', 'cse546-p2'] as const) {
      const course = planResult(event, rules({ profile, writeDetail: false }), now);
      if (course.action !== 'write') throw new Error('expected a write');
      expect(course.text.body).toBe(course.vote.name);
    }
  });

  test('summaryPeople: a few intervals a person, people while they fit the budget', () => {
    const person = (i: number): Person => ({
      name: `${'N'.repeat(200)}${i}`,
      weight: 1,
      frames: 40,
      faces: 40,
      bestDistance: 0.3,
      screenTimeSec: 40,
      firstSeenSec: 0,
      lastSeenSec: 100,
      intervals: Array.from({ length: 20 }, (_, k) => ({
        startSec: k * 5,
        endSec: k * 5 + 1,
        firstFrame: k * 5,
        lastFrame: k * 5 + 1,
        frames: 2,
      })),
    });
    const many = Array.from({ length: 500 }, (_, i) => person(i));
    const out = summaryPeople(many);
    expect(out.peopleTotal).toBe(500);
    expect(out.people.length).toBeGreaterThan(20);
    expect(jsonBytes(out.people)).toBeLessThanOrEqual(SUMMARY_PEOPLE_BYTES);
    expect(out.people[0].intervals).toHaveLength(SUMMARY_INTERVALS);
    expect(out.people[0].intervalsTotal).toBe(20);
    expect(summaryPeople(many.slice(0, 3))).toEqual({
      people: many
        .slice(0, 3)
        .map((p) => ({ ...p, intervals: p.intervals!.slice(0, 5), intervalsTotal: 20 })),
    });
  });

  test('planResult: every frame failed is refused with the first reason', () => {
    expect(planResult(input([failedBatch]), rules(), now)).toEqual({
      action: 'refuse',
      reason: expect.stringMatching(/none of the 2 frames could be analysed.*boom/),
    });
  });

  test('planFailure: the record where the profile keeps it, with a scrubbed reason', () => {
    const event = {
      failure: {
        stage: 'split' as const,
        error: 'Facerec.BadInput',
        cause: '{"errorMessage":"not a video: /tmp/x/y.mp4"}',
      },
      video: { bucket: 'facerec-input', key: 'dir/v.mp4' },
      execution: 'arn:exec',
    };
    const plan = planFailure(event, rules({ profile: 'cse546-p1' }), now);
    expect(plan.output).toMatchObject({
      stage: 'split',
      error: 'Facerec.BadInput',
      bucket: 'facerec-meta',
      errorKey: 'errors/dir/v.json',
    });
    expect(plan.output.reason).toMatch(/not a video/);
    expect(plan.output.reason).not.toMatch(/\/tmp\/x/);
    expect(plan.record).toMatchObject({
      bucket: 'facerec-meta',
      key: 'errors/dir/v.json',
      body: { stage: 'split', profile: 'cse546-p1', execution: 'arn:exec', time: now.toISOString() },
    });
    expect(planFailure(event, rules(), now).record.bucket).toBe('facerec-output');
  });
});
