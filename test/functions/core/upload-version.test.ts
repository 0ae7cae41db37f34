import { normalizeEtag, uploadIsCurrent } from '#functions/core/upload-version.js';

describe('uploadIsCurrent (newest upload wins)', () => {
  test('ETags compare without their quotes', () => {
    expect(normalizeEtag('"abc"')).toBe('abc');
    expect(uploadIsCurrent({ etag: 'abc' }, { etag: 'abc' })).toEqual({ current: true });
    expect(uploadIsCurrent({ etag: '"abc"' }, { etag: 'abc' })).toEqual({ current: true });
    expect(uploadIsCurrent({ etag: 'abc' }, { etag: 'def' })).toMatchObject({ current: false });
  });
  test('version ids win over ETags when both sides have one', () => {
    expect(uploadIsCurrent({ etag: 'a', versionId: '1' }, { etag: 'a', versionId: '2' })).toMatchObject({
      current: false,
    });
    expect(uploadIsCurrent({ etag: 'a', versionId: '1' }, { etag: 'b', versionId: '1' })).toEqual({
      current: true,
    });
  });
  test('a deleted key is not current; an upload without identity cannot be told apart', () => {
    expect(uploadIsCurrent({ etag: 'a' }, undefined)).toMatchObject({ current: false });
    expect(uploadIsCurrent({}, undefined)).toEqual({ current: true });
  });
});
