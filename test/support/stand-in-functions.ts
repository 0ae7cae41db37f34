/**
 * Stand-ins for the splitter and the recognition function (no ffmpeg, no models), for local-stack
 * tests of what lies around them (starter, state machine, journal, result function): each video
 * becomes one frame `<stem>.jpg`, and that frame's one face is the person `Person-<stem>`.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { downloadToFile } from '../../functions/aws/s3.js';

/** `n` small files `test_NN.mp4` in `dir` (any bytes: the stand-ins never decode them), and the
 * name the stand-ins give each (`Person-test_NN`). */
export function standInUploads(dir: string, n: number): { videos: string[]; expected: Map<string, string> } {
  const videos = Array.from({ length: n }, (_, i) => {
    const file = path.join(dir, `test_${String(i).padStart(2, '0')}.mp4`);
    writeFileSync(file, `video ${i}`);
    return file;
  });
  return {
    videos,
    expected: new Map(videos.map((f) => [path.basename(f), `Person-${path.basename(f, '.mp4')}`])),
  };
}

/** What bench/burst.ts's runBurst reports when each of `n` stand-in uploads got its one right output. */
export function everyUploadRight(n: number) {
  return {
    videos: n,
    outputs: n,
    correct: n,
    failed: 0,
    timedOut: 0,
    duplicated: 0,
    orphanFrames: 0,
    executions: { SUCCEEDED: n },
    errors: {},
  };
}

/** A splitter that takes `splitMs` per video and writes no frame (the recognition stand-in reads none). */
export function standInSplitter(o: { splitMs: number; frameBucket: string }) {
  return async (event: unknown) => {
    const { video } = event as { video: { bucket: string; key: string } };
    await sleep(o.splitMs);
    const stem = video.key.replace(/\.[^.]+$/, '');
    return {
      video: { bucket: video.bucket, key: video.key, stem },
      frameBucket: o.frameBucket,
      frameCount: 1,
      batches: [[`${stem}.jpg`]],
      split: {
        profile: 'cse546-p2',
        ffmpeg: 'stand-in',
        timings: { downloadMs: 0, ffmpegMs: o.splitMs, uploadMs: 0, totalMs: o.splitMs },
      },
    };
  };
}

/** Recognition that names the one face of frame `<stem>.jpg` `Person-<stem>`. */
export async function standInRecognition(event: unknown) {
  const { keys, batch } = event as { keys: string[]; batch: number };
  return {
    batch,
    frames: keys.map((key) => ({
      key,
      faces: [
        {
          box: { x: 0, y: 0, width: 50, height: 50 },
          score: 0.99,
          name: `Person-${key.replace(/\.jpg$/, '')}`,
          distance: 0.2,
        },
      ],
      facesTotal: 1,
    })),
    modelId: 'stand-in',
    galleryId: 'stand-in',
    timings: { totalMs: 1 },
  };
}

/**
 * A splitter whose one "frame" is named after the uploaded bytes (`<stem>/<content>.jpg`), read
 * through the real download of that very upload (its ETag: a newer upload of the key is refused
 * as superseded, as the real splitter does), so that a test can tell which upload an answer is of.
 */
export function contentSplitter(o: {
  splitMs: number;
  frameBucket: string;
  /** The S3 client of the stack (resolved when the first video arrives). */
  s3: () => Promise<S3Client>;
}) {
  return async (event: unknown) => {
    const { video } = event as { video: { bucket: string; key: string; etag?: string } };
    await sleep(o.splitMs);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'facerec-content-split-'));
    try {
      await downloadToFile(await o.s3(), video, path.join(dir, 'v'));
      const content = (await readFile(path.join(dir, 'v'), 'utf8')).replace(/[^0-9A-Za-z_-]/g, '_');
      const stem = video.key.replace(/\.[^.]+$/, '');
      return {
        video: { bucket: video.bucket, key: video.key, stem },
        frameBucket: o.frameBucket,
        frameCount: 1,
        batches: [[`${stem}/${content}.jpg`]],
        split: {
          profile: 'cse546-p2',
          ffmpeg: 'stand-in',
          timings: { downloadMs: 0, ffmpegMs: o.splitMs, uploadMs: 0, totalMs: o.splitMs },
        },
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

/** Recognition that names the one face of frame `<stem>/<content>.jpg` after the content. */
export async function contentRecognition(event: unknown) {
  const out = await standInRecognition(event);
  for (const f of out.frames) f.faces[0].name = path.posix.basename(f.key, '.jpg');
  return out;
}
