/**
 * Measures what the Lambda sizing in facerec-stack.ts (FUNCTION_SIZING) and docs/cost.md rest
 * on: peak memory and time of the two heavy functions' work, on one core (`taskset -c 0`: about
 * the one vCPU Lambda gives at 1,769 MB).
 *
 *   npx tsx infra/aws/measure-sizing.ts
 *
 * recognition: onnxruntime-node loads the three models, sharp decodes 1280x720 JPEG frames,
 *   each model runs once per frame (one face per frame). The face engine's own stages
 *   (alignment, tiling) are measured by the lead's benchmarks (docs/benchmarks.md).
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

const RECOGNITION_SCRIPT = `
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { readModelManifest, modelPath } from './models/manifest.ts';
const dir = 'models/generated';
const m = readModelManifest(dir);
const t0 = performance.now();
const sessions = {};
for (const name of ['detector', 'landmarks68', 'descriptor']) {
  sessions[name] = await ort.InferenceSession.create(modelPath(dir, m, name), { graphOptimizationLevel: 'all' });
}
const loadMs = performance.now() - t0;
const shape = (spec) => spec.shape.map((d) => (typeof d === 'number' ? d : 1));
const run = async (name, chip) => {
  const spec = m.models[name].inputs[0];
  const dims = shape(spec);
  const size = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = chip[i % chip.length] / 255;
  return sessions[name].run({ [spec.name]: new ort.Tensor('float32', data, dims) });
};
// A 1280x720 JPEG with texture, like a video frame.
const noise = Buffer.alloc(1280 * 720 * 3);
for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
const jpeg = await sharp(noise, { raw: { width: 1280, height: 720, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
const frames = 30;
const t1 = performance.now();
for (let f = 0; f < frames; f++) {
  const { data } = await sharp(jpeg).resize(320, 240, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  await run('detector', data);
  await run('landmarks68', data);
  await run('descriptor', data);
}
const perFrameMs = (performance.now() - t1) / frames;
console.log(JSON.stringify({ loadMs: Math.round(loadMs), perFrameMs: Math.round(perFrameMs * 10) / 10, frames }));
`;

function recognition(): void {
  const r = measure([process.execPath, '--import', 'tsx', '--input-type=module', '-e', RECOGNITION_SCRIPT]);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { loadMs: number; perFrameMs: number };
  console.log(
    `recognition: model load ${out.loadMs} ms, ${out.perFrameMs} ms/frame (3 model runs + decode), ` +
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
    // The frame selections of functions/core/frames.ts: default profile (10 frames spread over
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
