import {
  bucketNames,
  bucketPrefixOf,
  decodeEventKey,
  encodeEventKey,
  EXECUTION_NAME_PATTERN,
  executionName,
  frameFileName,
  frameKey,
  frameListKeys,
  isAllowedContentType,
  isVideoKey,
  outputKeys,
  videoStem,
  keyStem,
  MAX_KEY_STEM_BYTES,
  parseS3Uri,
  s3Uri,
} from '#functions/core/layout.js';

describe('layout', () => {
  test('bucket names from the prefix', () => {
    expect(bucketNames('facerec')).toEqual({
      input: 'facerec-input',
      stage1: 'facerec-stage-1',
      output: 'facerec-output',
      meta: 'facerec-meta',
    });
    for (const prefix of ['facerec', 'team-input', 'a.b'])
      expect(bucketPrefixOf(bucketNames(prefix))).toBe(prefix);
  });

  test('stems keep folders and strip one extension', () => {
    expect(videoStem('test_00.mp4')).toBe('test_00');
    expect(videoStem('videos/a b/clip.final.MOV')).toBe('videos/a b/clip.final');
    expect(videoStem('noext')).toBe('noext');
    expect(videoStem('.hidden')).toBe('.hidden');
  });

  test('cse546-p2 keys are flat <stem>.jpg, the others live under <stem>/', () => {
    expect(frameKey('cse546-p2', 'test_07', frameFileName('cse546-p2', 'test_07', 0))).toBe('test_07.jpg');
    expect(frameKey('cse546-p1', 'test_07', frameFileName('cse546-p1', 'test_07', 3))).toBe(
      'test_07/output-03.jpg',
    );
    expect(frameKey('default', 'dir/v', frameFileName('default', 'dir/v', 12))).toBe('dir/v/frame-0012.jpg');
    expect(outputKeys('test_07')).toEqual({
      text: 'test_07.txt',
      detail: 'test_07.json',
      error: 'errors/test_07.json',
    });
  });

  test('execution names: stable per object version, distinct per upload, valid for Step Functions', () => {
    const o = { bucket: 'b', key: 'test_00.mp4', etag: 'abc', sequencer: '0001' };
    expect(executionName(o)).toBe(executionName({ ...o }));
    expect(executionName(o)).not.toBe(executionName({ ...o, sequencer: '0002' }));
    expect(executionName(o)).not.toBe(executionName({ ...o, versionId: 'v2' }));
    expect(executionName(o)).toMatch(/^test_00-[0-9a-f]{20}$/);
    for (const key of [
      'ünïcødé clip (1).mp4',
      '视频.mp4',
      'a'.repeat(500) + '.mp4',
      '!!!.mp4',
      'x/y z/%20.mp4',
    ]) {
      const name = executionName({ ...o, key });
      expect(name).toMatch(EXECUTION_NAME_PATTERN);
    }
    expect(executionName({ ...o, key: 'ünïcødé clip (1).mp4' })).toMatch(/^unic-de-clip-1-[0-9a-f]{20}$/);
  });

  test('event keys: S3 form-encoding round trip', () => {
    for (const key of [
      'plain.mp4',
      'with space.mp4',
      'dir/ünï cødé+plus.mp4',
      'pct%20literal.mp4',
      "it's (1).mp4",
      '视频.mp4',
    ]) {
      expect(decodeEventKey(encodeEventKey(key))).toBe(key);
    }
    expect(encodeEventKey('a b/c+d.mp4')).toBe('a+b/c%2Bd.mp4');
    expect(decodeEventKey('a+b/c%2Bd.mp4')).toBe('a b/c+d.mp4');
  });

  test('video keys by extension, content types with wildcards', () => {
    const ext = ['mp4', 'mov'];
    expect(isVideoKey('a.MP4', ext)).toBe(true);
    expect(isVideoKey('a.txt', ext)).toBe(false);
    expect(isVideoKey('folder/', ext)).toBe(false);
    expect(isVideoKey('mp4', ext)).toBe(false);
    const types = ['video/*', 'application/octet-stream'];
    expect(isAllowedContentType('video/mp4', types)).toBe(true);
    expect(isAllowedContentType('Video/QuickTime; codecs=x', types)).toBe(true);
    expect(isAllowedContentType(undefined, types)).toBe(true);
    expect(isAllowedContentType('image/jpeg', types)).toBe(false);
    expect(isAllowedContentType('text/plain', types)).toBe(false);
  });
});

describe('keyStem (issue 21, finding 3)', () => {
  test('a stem whose derived keys fit is used as it is', () => {
    const stem = `a/${'x'.repeat(MAX_KEY_STEM_BYTES - 2)}`;
    expect(keyStem(stem)).toBe(stem);
    expect(outputKeys(stem).error).toBe(`errors/${stem}.json`);
  });
  test('a longer one is cut at a whole character and hashed: every derived key within 1,024 bytes', () => {
    for (const stem of ['é'.repeat(600), `${'x'.repeat(1010)}`, `v/${'€'.repeat(340)}`]) {
      const s = keyStem(stem);
      expect(s).toMatch(/~[0-9a-f]{16}$/);
      expect(s).not.toContain('\uFFFD');
      expect(stem.startsWith(s.slice(0, s.lastIndexOf('~')))).toBe(true);
      const keys = [
        ...Object.values(outputKeys(stem)),
        frameKey('default', stem, 'frame-9999.jpg'),
        frameKey('cse546-p1', stem, 'output-09.jpg'),
        frameKey('cse546-p2', stem, 'x.jpg'),
      ];
      for (const k of keys) expect(Buffer.byteLength(k)).toBeLessThanOrEqual(1024);
    }
    // Two long stems that share their first ~990 bytes stay apart.
    const a = `${'x'.repeat(1005)}a`;
    const b = `${'x'.repeat(1005)}b`;
    expect(keyStem(a)).not.toBe(keyStem(b));
  });
  test("a long video's lists (frame list, segments, the ResultWriter's results) within 1,024 bytes for every stem of a valid key", () => {
    // Input keys up to 1,024 bytes: stems up to 1,020 (`.mp4`), of 1- to 3-byte characters.
    for (let bytes = 900; bytes <= 1020; bytes += 4) {
      for (const ch of ['x', 'é', '€']) {
        const n = Math.floor(bytes / Buffer.byteLength(ch));
        const stem = `v/${ch.repeat(n - 1)}`;
        const k = frameListKeys(stem);
        const deepest = [
          k.list,
          k.segment(99_999),
          // What Step Functions' ResultWriter writes under the prefix: <map run id>/SUCCEEDED_<n>.json.
          `${k.results}/${'0'.repeat(36)}/SUCCEEDED_12345678.json`,
          `${k.results}/${'0'.repeat(36)}/manifest.json`,
        ];
        for (const key of deepest) expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
      }
    }
    // Short stems keep their lists beside their frames; long ones apart, still distinct.
    expect(frameListKeys('long/clip').list).toBe('long/clip/frames.json');
    const a = frameListKeys(`${'x'.repeat(1000)}a`).list;
    const b = frameListKeys(`${'x'.repeat(1000)}b`).list;
    expect(a).not.toBe(b);
  });

  test("a long video's keys fit at any stem length: frames up to FACEREC_MAX_FRAMES (100,000), its lists and its Map Run's results (issue 23)", () => {
    for (let bytes = MAX_KEY_STEM_BYTES - 80; bytes <= 1024; bytes++) {
      const stem = `v/${'x'.repeat(bytes - 2)}`;
      const lists = frameListKeys(stem);
      const keys = [
        frameKey('default', stem, frameFileName('default', stem, 99_999)),
        lists.list,
        lists.segment(9_999),
        // The ResultWriter's files: <Prefix>/<map run id (a UUID)>/SUCCEEDED_<n>.json, manifest.json.
        `${lists.results}/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}/SUCCEEDED_99.json`,
        `${lists.results}/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}/manifest.json`,
      ];
      for (const k of keys) expect(Buffer.byteLength(k)).toBeLessThanOrEqual(1024);
    }
    // A stem that fits keeps its lists beside its frames.
    expect(frameListKeys('a/video').list).toBe('a/video/frames.json');
  });
});

describe('parseS3Uri: the one parser of S3 locations', () => {
  test('s3://bucket/key -> its parts, and back', () => {
    expect(parseS3Uri('s3://my-bucket/a/b.json')).toEqual({ bucket: 'my-bucket', key: 'a/b.json' });
    expect(s3Uri({ bucket: 'my-bucket', key: 'a/b.json' })).toBe('s3://my-bucket/a/b.json');
  });
  test('a file path is not an S3 location', () => {
    expect(parseS3Uri('models/generated/gallery.json')).toBeUndefined();
    expect(parseS3Uri('/tmp/s3://x/y')).toBeUndefined();
  });
  test('an s3:// location without a valid bucket or a key is an error, not a file', () => {
    expect(() => parseS3Uri('s3://nokey')).toThrow(/s3:\/\/bucket\/key/);
    expect(() => parseS3Uri('s3://bucket/')).toThrow(/s3:\/\/bucket\/key/);
    expect(() => parseS3Uri('s3://Bad_Bucket/k')).toThrow(/s3:\/\/bucket\/key/);
  });
});
