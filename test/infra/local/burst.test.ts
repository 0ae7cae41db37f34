/**
 * bench/burst.ts with a small N: uploads at concurrency 16 through runWorkload (what `facerec
 * workload --concurrency 16` runs) into a local stack with one slot per function, stand-ins for
 * the splitter and recognition (no ffmpeg or models), the real starter and result function.
 * Every upload: one execution, one right output, no orphan frame.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runBurst } from '#bench/burst.js';
import { standInRecognition, standInSplitter } from '#test/support/stand-in-functions.js';
import { tempDir } from '#test/support/videos.js';

test('40 uploads, 16 in flight, one slot per function: 40 right outputs, 0 failed, 0 duplicated', async () => {
  const dir = tempDir('facerec-burst-');
  const videos = Array.from({ length: 40 }, (_, i) => {
    const file = path.join(dir, `test_${String(i).padStart(2, '0')}.mp4`);
    writeFileSync(file, `video ${i}`);
    return file;
  });
  const expected = new Map(videos.map((f) => [path.basename(f), `Person-${path.basename(f, '.mp4')}`]));
  const r = await runBurst({
    videos,
    expected,
    concurrency: 16,
    dir: path.join(dir, 'local'),
    env: { FACEREC_LOCAL_CONCURRENCY: '1' },
    timeoutSec: 60,
    handlers: {
      // Long enough that uploads arriving at 16 in flight must wait for the one slot, even when
      // a loaded machine spreads their arrivals out (at 20 ms the queue sometimes never passed 100 ms).
      splitter: standInSplitter({ splitMs: 100, frameBucket: 'facerec-stage-1' }),
      recognition: standInRecognition,
    },
  });
  expect(r.wrong).toEqual([]);
  expect(r).toMatchObject({
    videos: 40,
    outputs: 40,
    correct: 40,
    failed: 0,
    timedOut: 0,
    duplicated: 0,
    orphanFrames: 0,
    executions: { SUCCEEDED: 40 },
    errors: {},
  });
  // The uploads did queue for the one splitter slot.
  expect(r.maxQueuedMs.splitter).toBeGreaterThan(100);
}, 90_000);
