import type { FrameResult, ResultInput } from '#functions/core/contracts.js';
import { bucketNames } from '#functions/core/layout.js';
import { planFailure, planResult, tallyBatches, type ResultRules } from '#functions/core/result.js';
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
