/**
 * Failure records written to the output bucket (issue 12): a reason and a kind per failure, no
 * stack trace, no path of the machine that ran the function.
 */
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { failureKind, publicCause, scrubPaths } from '#functions/core/failure.js';
import { createHandler } from '#functions/result/handler.js';
import { lambdaContext, testConfig } from '#test/support/lambda.js';

const s3 = mockClient(S3Client);
beforeEach(() => {
  s3.reset();
  s3.on(PutObjectCommand).resolves({});
  // The upload the execution was started for is still the current one (newest upload wins).
  s3.on(HeadObjectCommand).resolves({ ETag: '"e"' });
});

describe('failure records', () => {
  test('paths of the machine become base names; keys and plain words stay', () => {
    expect(
      scrubPaths('cannot run ffmpeg (/work/wt12/node_modules/@ffmpeg-installer/linux-x64/ffmpeg): EACCES'),
    ).toBe('cannot run ffmpeg (ffmpeg): EACCES');
    expect(scrubPaths('Could not open file : /tmp/facerec-split-Ab12/frames/x.jpg')).toBe(
      'Could not open file : x.jpg',
    );
    expect(scrubPaths('at file:///var/task/index.mjs:10:3')).toBe('at index.mjs:10:3');
    expect(scrubPaths('../../../escape3.mp4: not a video')).toBe('../../../escape3.mp4: not a video');
    expect(scrubPaths('videos/a b/clip.mp4: 50% of frames')).toBe('videos/a b/clip.mp4: 50% of frames');
  });

  test('a cause keeps its type and message; the trace goes', () => {
    const cause = JSON.stringify({
      errorType: 'Facerec.Internal',
      errorMessage: 'TypeError: x is undefined (/home/me/repo/functions/core/vote.ts)',
      trace: ['TypeError: x is undefined', '    at vote (/home/me/repo/functions/core/vote.ts:10:5)'],
    });
    expect(JSON.parse(publicCause(cause)!)).toEqual({
      errorType: 'Facerec.Internal',
      errorMessage: 'TypeError: x is undefined (vote.ts)',
    });
    expect(publicCause('Error: boom\n    at f (/var/task/a.js:1:1)\n    at g (/var/task/b.js:2:2)')).toBe(
      'Error: boom',
    );
    expect(publicCause(undefined)).toBeUndefined();
  });

  test.each([
    ['Facerec.BadInput', 'v.mp4: the video file is empty (0 bytes)', 'empty'],
    ['Facerec.BadInput', 'not a video: the file has audio but no video stream', 'no-video-stream'],
    [
      'Facerec.BadInput',
      'not a video: the file is a still image (png), whatever its name says',
      'not-a-video',
    ],
    [
      'Facerec.BadInput',
      'not a video: ffmpeg cannot read this format (ffmpeg: Invalid data found when processing input)',
      'not-a-video',
    ],
    [
      'Facerec.BadInput',
      'cannot decode the video: the file is truncated (ffmpeg: partial file)',
      'undecodable',
    ],
    ['Facerec.Timeout', 'ffmpeg did not finish within 120.0 s', 'timeout'],
    ['States.Timeout', 'State timed out', 'timeout'],
    ['Facerec.Config', 'no gallery', 'configuration'],
  ])('%s "%s" is %s', (error, reason, kind) => {
    expect(failureKind(error, reason)).toBe(kind);
  });

  test('the result function writes errors/<stem>.json without trace or machine paths', async () => {
    const handler = createHandler({
      config: testConfig(),
      s3: new S3Client({ region: 'us-east-1' }),
      sfn: new SFNClient({}),
    });
    await handler(
      {
        failure: {
          stage: 'split',
          error: 'Facerec.BadInput',
          cause: JSON.stringify({
            errorType: 'Facerec.BadInput',
            errorMessage:
              'not a video: the file has audio but no video stream (/tmp/facerec-split-XyZ/video.mp4)',
            trace: [
              'Facerec.BadInput: not a video',
              '    at extractFrames (/work/repo/functions/core/ffmpeg/extract.ts:400:11)',
            ],
          }),
        },
        video: { bucket: 'facerec-input', key: 'voice memo 100%.mp4', etag: 'e', sequencer: '01' },
        execution: 'arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:voice-1',
      },
      lambdaContext(),
    );
    const put = s3
      .commandCalls(PutObjectCommand)
      .find((c) => c.args[0].input.Key === 'errors/voice memo 100%.json');
    const text = Buffer.from(put!.args[0].input.Body as Buffer).toString('utf8');
    const record = JSON.parse(text);
    expect(record).toMatchObject({
      kind: 'no-video-stream',
      reason: 'not a video: the file has audio but no video stream (video.mp4)',
      video: { key: 'voice memo 100%.mp4' },
    });
    expect(text).not.toMatch(/\/tmp\/|\/work\/|\s+at\s|trace/);
  });
});
