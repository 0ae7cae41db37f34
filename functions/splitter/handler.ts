/**
 * splitter: video in the input bucket -> frames in the stage-1 bucket, returned as batches of
 * keys for the Map. Sampling and key names follow the profile (core/layout.ts, core/ffmpeg/).
 */
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import { accessSync, constants } from 'node:fs';
import { mkdir, rm, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { toBatches } from '../core/batches.js';
import { AWS_REQUESTS_AT_ONCE, mapLimit } from '../core/concurrency.js';
import {
  SplitInputSchema,
  type SegmentOutput,
  type SplitInput,
  type SplitOutput,
  type VideoObject,
} from '../core/contracts.js';
import { describeFfmpeg, ffmpegVersion, resolveFfmpeg, type FfmpegBinary } from '../core/ffmpeg/binary.js';
import { ffmpegTimeLeftMs } from '../core/ffmpeg/deadline.js';
import { extractFrames, type ExtractedFrame } from '../core/ffmpeg/extract.js';
import { frameLimits } from '../core/ffmpeg/plan.js';
import { ffmpegMemoryCapBytes, type MemoryCap } from '../core/ffmpeg/run.js';
import { extensionOf, frameKey, videoStem } from '../core/layout.js';
import type { PipelineConfig } from '../config.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { BadInputError } from '../aws/errors.js';
import {
  classifyErrors,
  lambdaEntry,
  logContext,
  logKeys,
  type FacerecContext,
  type LambdaEntry,
} from '../aws/middleware.js';
import { observability } from '../aws/observability.js';
import { lazyDeps, type Deps } from '../aws/runtime.js';
import { downloadToFile, putFile } from '../aws/s3.js';
import { makeWorkFolder, sweepWorkFolders } from './work-folder.js';
import { splitSampled } from './sampled.js';

// Resolved once per process (and per setting).
const ffmpegInfos = new Map<string, Promise<{ binary: FfmpegBinary; description: string }>>();

function ffmpegFor(explicitPath: string | undefined, searchPath: string) {
  const id = `${explicitPath ?? ''}\u0000${searchPath}`;
  let info = ffmpegInfos.get(id);
  if (!info) {
    info = (async () => {
      const binary = resolveFfmpeg({ explicitPath, searchPath });
      return { binary, description: describeFfmpeg(binary, await ffmpegVersion(binary.path)) };
    })();
    ffmpegInfos.set(id, info);
    info.catch(() => ffmpegInfos.delete(id));
  }
  return info;
}

/** util-linux's prlimit on the search path, if any (what enforces ffmpeg's memory cap). */
function findPrlimit(searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'prlimit');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** ffmpeg's memory cap for this process (core/ffmpeg/run.ts ffmpegMemoryCapBytes). */
function memoryCapOf(p: PipelineConfig): MemoryCap {
  return {
    bytes: ffmpegMemoryCapBytes({
      explicitMb: p.ffmpeg.memoryMb,
      lambdaMemoryMb: p.ffmpeg.lambdaMemoryMb,
      totalMemBytes: os.totalmem(),
      // Local mode runs this many splitter invocations at once (infra/local/stack.ts).
      concurrency: p.local.concurrency ?? os.availableParallelism(),
    }),
    prlimit: findPrlimit(p.ffmpeg.searchPath),
  };
}

/** The video is downloaded to temporary storage: refuse early what cannot fit. */
async function refuseIfTooBig(video: VideoObject): Promise<void> {
  if (!video.size) return;
  const fs = await statfs(os.tmpdir());
  const free = fs.bavail * fs.bsize;
  if (video.size > free * 0.9) {
    throw new BadInputError(
      `${video.key}: the video (${(video.size / 2 ** 20).toFixed(0)} MB) does not fit the function's temporary ` +
        `storage (${(free / 2 ** 20).toFixed(0)} MB free)`,
    );
  }
}

/** Frames to the stage-1 bucket under the profile's keys, eight at a time; their keys in order. */
function uploadFrames(
  s3: S3Client,
  p: PipelineConfig,
  stem: string,
  frames: ReadonlyArray<Pick<ExtractedFrame, 'fileName' | 'file'>>,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  return mapLimit(frames, AWS_REQUESTS_AT_ONCE, async (f) => {
    // Abandoned (local mode): no frames for an execution that is over.
    signal?.throwIfAborted();
    const key = frameKey(p.profile, stem, f.fileName);
    await putFile(s3, p.buckets.stage1, key, f.file, 'image/jpeg');
    return key;
  });
}

export function createHandler(deps: Deps = {}): LambdaEntry<SplitOutput | SegmentOutput> {
  const resolve = lazyDeps(deps);
  // Once per process: the work folders of splitters that were killed (see work-folder.ts).
  let swept = false;
  let memoryCap: MemoryCap | undefined;
  const handle = async (event: SplitInput, context: FacerecContext): Promise<SplitOutput | SegmentOutput> => {
    const { video } = event;
    const t0 = performance.now();
    const { config, s3 } = resolve();
    const p = config.pipeline;
    const ffmpeg = await ffmpegFor(p.ffmpeg.path, p.ffmpeg.searchPath);
    context.log.debug('ffmpeg', { ffmpeg: ffmpeg.description });
    if (!swept) {
      swept = true;
      const removed = sweepWorkFolders(os.tmpdir());
      if (removed.length) context.log.info('removed work folders of killed splitters', { removed });
    }
    memoryCap ??= memoryCapOf(p);
    const maxFramePixels = config.engine.maxImageMegapixels * 1e6;
    // The default profile samples by count or rate, long videos in segments (sampled.ts).
    if (p.profile === 'default') {
      return splitSampled(event, {
        s3,
        config: p,
        ffmpeg: { path: ffmpeg.binary.path, description: ffmpeg.description },
        context,
        memoryCap,
        maxFramePixels,
        makeWorkFolder: () => makeWorkFolder(os.tmpdir()),
        refuseIfTooBig,
        uploadFrames: (stem, frames) => uploadFrames(s3, p, stem, frames, context.abortSignal),
      });
    }

    const stem = videoStem(video.key);
    await refuseIfTooBig(video);
    const work = await makeWorkFolder(os.tmpdir());
    try {
      const ext = extensionOf(video.key)
        .replace(/[^a-z0-9]/g, '')
        .slice(0, 16);
      const videoPath = path.join(work, `video${ext ? `.${ext}` : ''}`);
      const td = performance.now();
      const bytes = await downloadToFile(s3, video, videoPath, context.abortSignal);
      const downloadMs = performance.now() - td;
      if (bytes === 0) throw new BadInputError(`${video.key}: the video file is empty (0 bytes)`);

      const limits = frameLimits({ profile: p.profile, stem, ...p.frames });
      const outDir = path.join(work, 'frames');
      await mkdir(outDir);
      const extraction = await extractFrames({
        ffmpeg: ffmpeg.binary.path,
        profile: p.profile,
        stem,
        videoPath,
        outDir,
        frames: limits.frames,
        maxFrames: limits.maxFrames,
        timeoutMs: ffmpegTimeLeftMs(context, p.ffmpeg.timeoutMs),
        signal: context.abortSignal,
        maxFramePixels,
        memoryCap,
      });

      const tu = performance.now();
      const keys = await uploadFrames(s3, p, stem, extraction.frames, context.abortSignal);
      const uploadMs = performance.now() - tu;
      const ms = (x: number) => Math.round(x);
      context.log.info('frames uploaded', {
        frames: keys.length,
        bucket: p.buckets.stage1,
        durationSec: extraction.durationSec,
        ffmpegBudgetMs: extraction.budgetMs,
        ffmpegMs: Math.round(extraction.ffmpegMs),
      });
      return {
        video: { bucket: video.bucket, key: video.key, stem },
        frameBucket: p.buckets.stage1,
        frameCount: keys.length,
        batches: toBatches(keys, p.frames.batchSize),
        split: {
          profile: p.profile,
          ffmpeg: ffmpeg.description,
          ...(extraction.durationSec !== undefined ? { durationSec: extraction.durationSec } : {}),
          frameTimesSec: extraction.frames.map((f) =>
            f.timeSec === undefined ? null : Math.round(f.timeSec * 1000) / 1000,
          ),
          timings: {
            downloadMs: ms(downloadMs),
            ffmpegMs: ms(extraction.ffmpegMs),
            uploadMs: ms(uploadMs),
            totalMs: ms(performance.now() - t0),
          },
        },
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  };
  return lambdaEntry(
    middy(handle)
      .use(logContext('splitter', () => resolve().config.pipeline.logLevel))
      .use(classifyErrors())
      .use(parser({ schema: SplitInputSchema }))
      .use(logKeys((e: SplitInput) => ({ execution: e.execution, video: e.video.key })))
      .use(observability('splitter', () => resolve().config)),
  );
}

export const handler = createHandler();
