import { answersToCheck, planReconcile } from '#infra/reconcile/plan.js';
import { LATE_ANSWER_WINDOW_MS } from '#functions/core/upload-version.js';
import { planStoredObject } from '#functions/core/starter.js';
import { executionName } from '#functions/core/layout.js';

const EXT = ['mp4', 'mov'];

describe('planReconcile', () => {
  const base = { running: [], extensions: EXT, uploadedBefore: 10_000 };
  test('an upload with an output or an error record at least as new is answered', () => {
    const d = planReconcile({
      ...base,
      inputs: [
        { key: 'a.mp4', lastModified: 100 },
        { key: 'dir/b.mp4', lastModified: 100 },
        { key: 'c.mp4', lastModified: 100 },
      ],
      outputs: [
        { key: 'a.txt', lastModified: 100 },
        { key: 'errors/dir/b.json', lastModified: 200 },
      ],
    });
    expect(d).toEqual([
      { key: 'a.mp4', action: 'skip', reason: 'answered' },
      { key: 'dir/b.mp4', action: 'skip', reason: 'answered' },
      { key: 'c.mp4', action: 'start' },
    ]);
  });
  test('an answer older than the upload belongs to an earlier upload of the key: start', () => {
    const d = planReconcile({
      ...base,
      inputs: [{ key: 'a.mp4', lastModified: 500 }],
      outputs: [{ key: 'a.txt', lastModified: 100 }],
    });
    expect(d).toEqual([{ key: 'a.mp4', action: 'start' }]);
  });
  test('running, too recent (left to the starter), not a video', () => {
    const d = planReconcile({
      ...base,
      running: [{ key: 'r.mp4' }],
      inputs: [
        { key: 'r.mp4', lastModified: 1 },
        { key: 'new.mp4', lastModified: 20_000 },
        { key: 'notes.txt', lastModified: 1 },
      ],
      outputs: [],
    });
    expect(d.map((x) => (x.action === 'skip' ? x.reason : x.action))).toEqual([
      'running',
      'recent',
      'not a video',
    ]);
  });
});

describe('planReconcile: which upload a running execution works on (issue 21, finding 1)', () => {
  const base = { outputs: [], extensions: EXT, uploadedBefore: 10_000 };
  test('an execution of an older upload of the key (another ETag) does not answer the newer upload: start it', () => {
    const d = planReconcile({
      ...base,
      running: [{ key: 'clip.mp4', etag: 'old' }],
      inputs: [{ key: 'clip.mp4', lastModified: 5, etag: '"new"' }],
    });
    expect(d).toEqual([{ key: 'clip.mp4', action: 'start' }]);
  });
  test('an execution of this very upload (same ETag, quoted or not) is running: skip', () => {
    const d = planReconcile({
      ...base,
      running: [
        { key: 'clip.mp4', etag: 'old' },
        { key: 'clip.mp4', etag: 'new' },
      ],
      inputs: [{ key: 'clip.mp4', lastModified: 5, etag: '"new"' }],
    });
    expect(d).toEqual([{ key: 'clip.mp4', action: 'skip', reason: 'running' }]);
  });
  test('without an ETag on either side the uploads cannot be told apart: counted as running', () => {
    const d = planReconcile({
      ...base,
      running: [{ key: 'a.mp4' }, { key: 'b.mp4', etag: 'x' }],
      inputs: [
        { key: 'a.mp4', lastModified: 5, etag: '"y"' },
        { key: 'b.mp4', lastModified: 5 },
      ],
    });
    expect(d.map((x) => x.action)).toEqual(['skip', 'skip']);
  });
});

describe('planReconcile: which upload an answer answers (issue 21, a late answer of an older upload)', () => {
  const base = { running: [], extensions: EXT, uploadedBefore: 10_000 };
  const inputs = [
    { key: 'late.mp4', lastModified: 100, etag: '"new"' },
    { key: 'own.mp4', lastModified: 100, etag: 'mine' },
    { key: 'old-style.mp4', lastModified: 100, etag: 'x' },
  ];
  const outputs = [
    { key: 'late.txt', lastModified: 105 },
    { key: 'errors/own.json', lastModified: 105 },
    { key: 'old-style.txt', lastModified: 105 },
  ];
  test('an answer newer than the upload that names another upload does not answer it; its own does; none named: by date', () => {
    const d = planReconcile({
      ...base,
      inputs,
      outputs,
      answeredUploads: new Map([
        ['late.txt', 'old'],
        ['errors/own.json', 'mine'],
        ['old-style.txt', undefined],
      ]),
    });
    expect(d).toEqual([
      { key: 'late.mp4', action: 'start' },
      { key: 'own.mp4', action: 'skip', reason: 'answered' },
      { key: 'old-style.mp4', action: 'skip', reason: 'answered' },
    ]);
  });
  test('only answers written within the late-answer window after their upload are read', () => {
    expect(
      answersToCheck(
        [...inputs, { key: 'long-ago.mp4', lastModified: 0 }, { key: 'notes.md', lastModified: 0 }],
        [
          ...outputs,
          { key: 'long-ago.txt', lastModified: LATE_ANSWER_WINDOW_MS },
          { key: 'notes.txt', lastModified: 1 },
          { key: 'stale.txt', lastModified: 1 },
        ],
        EXT,
      ).sort(),
    ).toEqual(['errors/own.json', 'late.txt', 'old-style.txt']);
  });
});

describe('planStoredObject (the starter core for an object without its event)', () => {
  const rules = { inputBucket: 'in', extensions: EXT, contentTypes: ['video/*'] };
  test('same input and naming as the starter, without a sequencer', () => {
    const plan = planStoredObject('in', 'x/clip.mp4', { size: 10, etag: '"abc"', versionId: 'v1' }, rules);
    const video = { bucket: 'in', key: 'x/clip.mp4', size: 10, etag: 'abc', versionId: 'v1' };
    expect(plan).toEqual({ action: 'start', name: executionName(video), video });
    expect(plan.action === 'start' && plan.name).toMatch(/^clip-[0-9a-f]{20}$/);
  });
  test('the starter checks: extension, content type', () => {
    expect(planStoredObject('in', 'a.txt', {}, rules)).toMatchObject({ action: 'skip' });
    expect(planStoredObject('in', 'a.mp4', { contentType: 'text/html' }, rules)).toMatchObject({
      action: 'skip',
      reason: expect.stringMatching(/content type/),
    });
  });
});
