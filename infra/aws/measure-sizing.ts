/**
 * Measures what the Lambda sizing in facerec-stack.ts (FUNCTION_SIZING) and docs/cost.md rest
 * on: peak memory and time of the two heavy functions' work, on one core (`taskset -c 0`: about
 * the one vCPU Lambda gives at 1,769 MB).
 *
 *   npx tsx infra/aws/measure-sizing.ts
 *
 * recognition: the whole face engine on 1280x720 frames, warm (bench/speed.ts without the
 *   face-api comparison: one face per frame from ../shared/data/faces, or face-api's group
 *   photos when that is absent; the output names which): model load, time per frame, memory.
 * splitter: the bundled static ffmpeg extracts JPEG frames from a 30 s 1280x720 30 fps H.264
 *   video, as the profiles do.
 *
 * Other processes on the machine skew wall times: run it on an idle machine, twice.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ffmpeg = path.join(root, 'node_modules', '@ffmpeg-installer', 'linux-x64', 'ffmpeg');
const oneCore = spawnSync('taskset', ['-c', '0', 'true']).status === 0 ? ['taskset', '-c', '0'] : [];

interface Run {
  maxRssMB: number;
  wallS: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time, pinned to one core. */
function measure(cmd: string[], cwd = root): Run {
  const full = [...oneCore, '/usr/bin/time', '-f', '%M %e', ...cmd];
  const r = spawnSync(full[0], full.slice(1), { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const last = r.stderr.trim().split('\n').pop()!;
  const [kb, secs] = last.split(' ').map(Number);
  return { maxRssMB: kb / 1024, wallS: secs, stdout: r.stdout };
}

/** The face engine as the recognition function runs it, through the speed benchmark: the same
 * frames, stages and figures as docs/benchmarks.md, here pinned to one core. */
function recognition(): void {
  const r = measure([
    process.execPath,
    '--import',
    'tsx',
    path.join(root, 'bench', 'speed.ts'),
    '--no-face-api',
    '--no-floor',
    '--rounds',
    '3',
    '--json',
  ]);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    images: string;
    modelLoadMs: number;
    stages: { total: { median: number; p95: number } };
  };
  console.log(
    `recognition (${out.images}): model load ${out.modelLoadMs.toFixed(0)} ms, whole engine ` +
      `${out.stages.total.median.toFixed(1)} ms/frame median, ${out.stages.total.p95.toFixed(1)} p95, ` +
      `peak RSS ${r.maxRssMB.toFixed(0)} MB`,
  );
}

function splitter(): void {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'facerec-measure-'));
  try {
    const video = path.join(tmp, 'video.mp4');
    const seconds = 30;
    const made = spawnSync(ffmpeg, [
      ...['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${seconds}`],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'veryfast', video],
    ]);
    if (made.status !== 0) throw new Error(`could not make the test video: ${made.stderr}`);
    const mb = statSync(video).size / 1024 / 1024;
    // The frame selections of functions/core/ffmpeg/plan.ts: default profile (10 frames spread over
    // the video, one decoding pass), cse546-p2 (the first frame); every frame as an upper bound.
    for (const [label, filter] of [
      ['default profile: 10 frames', ['-vf', `fps=fps=10/${seconds}`, '-frames:v', '10']],
      ['cse546-p2: first frame', ['-vframes', '1']],
      ['every frame', []],
    ] as const) {
      const out = path.join(tmp, label.replace(/\W+/g, '-'));
      mkdirSync(out);
      const r = measure([
        ffmpeg,
        '-v',
        'error',
        '-i',
        video,
        ...filter,
        '-q:v',
        '2',
        path.join(out, 'frame-%05d.jpg'),
      ]);
      const files = readdirSync(out);
      const bytes = files.reduce((a, f) => a + statSync(path.join(out, f)).size, 0);
      console.log(
        `splitter (${seconds} s 1280x720 30 fps H.264, ${mb.toFixed(1)} MB; ${label}): ${files.length} frames, ` +
          `${r.wallS.toFixed(2)} s, peak RSS ${r.maxRssMB.toFixed(0)} MB, ${(bytes / files.length / 1024).toFixed(0)} KB/frame`,
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

console.log(
  `one core: ${oneCore.length > 0 ? 'yes (taskset -c 0)' : 'no (taskset missing)'}; ${os.cpus()[0]?.model}`,
);
recognition();
splitter();
