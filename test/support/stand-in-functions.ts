/**
 * Stand-ins for the splitter and the recognition function (no ffmpeg, no models), for local-stack
 * tests of what lies around them (starter, state machine, journal, result function): each video
 * becomes one frame `<stem>.jpg`, and that frame's one face is the person `Person-<stem>`.
 */
import { setTimeout as sleep } from 'node:timers/promises';

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
