/**
 * bench/burst.ts with a small N: uploads at concurrency 16 through runWorkload (what `facerec
 * workload --concurrency 16` runs) into a local stack with one slot per function, stand-ins for
 * the splitter and recognition (no ffmpeg or models), the real starter and result function.
 * Every upload: one execution, one right output, no orphan frame.
 */
import path from 'node:path';
import { runBurst } from '#bench/burst.js';
import {
  standInRecognition,
  standInSplitter,
  standInUploads,
  everyUploadRight,
} from '#test/support/stand-in-functions.js';
import { tempDir } from '#test/support/videos.js';

test('40 uploads, 16 in flight, one slot per function: 40 right outputs, 0 failed, 0 duplicated', async () => {
  const dir = tempDir('facerec-burst-');
  const { videos, expected } = standInUploads(dir, 40);
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
  expect(r).toMatchObject(everyUploadRight(40));
  // The uploads did queue for the one splitter slot.
  expect(r.maxQueuedMs.splitter).toBeGreaterThan(100);
}, 90_000);
