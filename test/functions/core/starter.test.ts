import { checkContentType, planRecord } from '#functions/core/starter.js';
import { encodeEventKey } from '#functions/core/layout.js';

const rules = { inputBucket: 'facerec-input', extensions: ['mp4', 'mov'] };
const rec = (key: string, extra: Record<string, unknown> = {}) => ({
  eventName: 'ObjectCreated:Put',
  eventTime: '2024-01-01T00:00:00.000Z',
  s3: {
    bucket: { name: 'facerec-input' },
    object: { key: encodeEventKey(key), size: 10, eTag: '"abc"', sequencer: '00AA', ...extra },
  },
});

describe('starter core', () => {
  test('a video upload becomes an execution with a decoded key and a stable input', () => {
    const plan = planRecord(rec('my videos/Ünï (1).mp4'), rules);
    expect(plan).toMatchObject({
      action: 'start',
      video: { bucket: 'facerec-input', key: 'my videos/Ünï (1).mp4', etag: 'abc' },
    });
    const again = planRecord(rec('my videos/Ünï (1).mp4'), rules);
    expect(JSON.stringify(again)).toBe(JSON.stringify(plan));
  });

  test('other keys, events and buckets are skipped with a reason', () => {
    expect(planRecord(rec('notes.txt'), rules)).toMatchObject({ action: 'skip', key: 'notes.txt' });
    expect(planRecord({ ...rec('a.mp4'), eventName: 'ObjectRemoved:Delete' }, rules)).toMatchObject({
      action: 'skip',
    });
    const other = rec('a.mp4');
    other.s3.bucket.name = 'elsewhere';
    expect(planRecord(other, rules)).toMatchObject({ action: 'skip' });
    expect(
      planRecord({ ...rec('x'), s3: { ...rec('x').s3, object: { key: '%E0%A4%A.mp4' } } }, rules),
    ).toMatchObject({
      action: 'skip',
    });
  });

  test('content types', () => {
    expect(checkContentType('video/mp4', ['video/*']).ok).toBe(true);
    expect(checkContentType('text/plain', ['video/*']).ok).toBe(false);
  });
});
