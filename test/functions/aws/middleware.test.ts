import { jest } from '@jest/globals';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import {
  classifyErrors,
  lambdaEntry,
  logContext,
  logKeys,
  type FacerecContext,
} from '#functions/aws/middleware.js';
import { classifyError, ErrorName, TransientError } from '#functions/aws/errors.js';
import { FfmpegError } from '#functions/core/ffmpeg/run.js';
import { awsError, lambdaContext } from '#test/support/lambda.js';

function captureStdout() {
  const lines: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }),
  );
  return {
    lines: () =>
      lines
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

describe('middleware', () => {
  const schema = z.object({ video: z.string(), execution: z.string(), fail: z.string().optional() });
  type Input = z.infer<typeof schema>;
  // Composed as the functions compose them (functions/*/handler.ts).
  const handler = lambdaEntry(
    middy(async (e: Input, ctx: FacerecContext) => {
      ctx.log.info('working');
      if (e.fail === 'transient') throw awsError('SlowDown', 503);
      if (e.fail === 'ffmpeg') throw new FfmpegError('decode', 'cannot decode the video: x');
      if (e.fail === 'bug') throw new TypeError('undefined is not a function');
      return { ok: true };
    })
      .use(logContext('splitter', () => 'INFO'))
      .use(classifyErrors())
      .use(parser({ schema }))
      .use(logKeys((e: Input) => ({ video: e.video, execution: e.execution }))),
  );

  test('structured logs carry the function, execution and video key', async () => {
    const out = captureStdout();
    try {
      await handler({ video: 'a b.mp4', execution: 'arn:exec:1' }, lambdaContext('facerec-splitter'));
    } finally {
      out.restore();
    }
    const lines = out.lines();
    const working = lines.find((l) => l.message === 'working')!;
    expect(working).toMatchObject({
      function: 'splitter',
      video: 'a b.mp4',
      execution: 'arn:exec:1',
      service: 'facerec',
      level: 'INFO',
    });
    expect(working.function_request_id).toBeDefined();
    expect(lines.find((l) => l.message === 'done')).toMatchObject({ video: 'a b.mp4' });
  });

  test.each([
    ['transient', ErrorName.Transient],
    ['ffmpeg', ErrorName.BadInput],
    ['bug', ErrorName.Internal],
  ])('errors leave typed: %s -> %s, and are logged', async (fail, name) => {
    const out = captureStdout();
    let err: unknown;
    try {
      err = await handler({ video: 'v.mp4', execution: 'x', fail }, lambdaContext()).catch((e: unknown) => e);
    } finally {
      out.restore();
    }
    expect(err).toMatchObject({ name });
    expect(out.lines().find((l) => l.errorName === name)).toMatchObject({ video: 'v.mp4' });
  });

  test('an event its schema rejects is bad input, named and logged, and the handler never runs', async () => {
    const out = captureStdout();
    let err: unknown;
    try {
      err = await handler({ video: 3, execution: 'x' }, lambdaContext()).catch((e: unknown) => e);
    } finally {
      out.restore();
    }
    expect(err).toMatchObject({ name: ErrorName.BadInput });
    expect((err as Error).message).toMatch(/^invalid input: .*video/s);
    const lines = out.lines();
    expect(lines.find((l) => l.errorName === ErrorName.BadInput)).toMatchObject({
      function: 'splitter',
      level: 'WARN',
    });
    expect(lines.find((l) => l.message === 'working')).toBeUndefined();
  });

  test('cold_start is true at the first invocation of an execution environment only', async () => {
    const before = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    const fresh = lambdaEntry(
      middy(async (_e: unknown, ctx: FacerecContext) => ctx.log.info('working')).use(logContext('result')),
    );
    const out = captureStdout();
    try {
      for (let i = 0; i < 3; i++) await fresh({}, lambdaContext());
    } finally {
      out.restore();
      if (before === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
      else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = before;
    }
    const working = out.lines().filter((l) => l.message === 'working');
    expect(working.map((l) => l.cold_start)).toEqual([true, false, false]);
  });

  test('concurrent invocations keep their own log keys', async () => {
    const out = captureStdout();
    try {
      await Promise.all(
        ['1', '2', '3'].map((i) => handler({ video: `v${i}.mp4`, execution: `e${i}` }, lambdaContext())),
      );
    } finally {
      out.restore();
    }
    for (const l of out.lines().filter((x) => x.message === 'working')) {
      expect(String(l.video)).toBe(`v${String(l.execution).slice(1)}.mp4`);
    }
  });

  test('classifyError', () => {
    expect(classifyError(awsError('ThrottlingException', 400)).name).toBe(ErrorName.Transient);
    expect(classifyError(awsError('AccessDenied', 403)).name).toBe(ErrorName.Config);
    expect(classifyError(awsError('NoSuchKey', 404)).name).toBe(ErrorName.BadInput);
    expect(classifyError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).name).toBe(
      ErrorName.Transient,
    );
    expect(classifyError(new FfmpegError('timeout', 't')).name).toBe(ErrorName.Timeout);
    expect(classifyError(new FfmpegError('spawn', 's')).name).toBe(ErrorName.Config);
    expect(classifyError(Object.assign(new Error('x'), { name: 'ImageDecodeError' })).name).toBe(
      ErrorName.BadInput,
    );
    expect(classifyError(Object.assign(new Error('x'), { name: 'GalleryError' })).name).toBe(
      ErrorName.Config,
    );
    expect(classifyError('str').name).toBe(ErrorName.Internal);
    expect(classifyError(new TransientError('t')).retryable).toBe(true);
    expect(classifyError(new Error('x')).retryable).toBe(false);
  });
});
