/**
 * Long-video benchmark (`npx tsx bench/long-video.ts [--data ../shared/data/openset]
 * [--cache ~/.cache/facerec-bench/long-video] [--minutes 60] [--skip-floor] [--skip-count]
 * [--schedule]`; `--schedule` prints who is shown when, and stops):
 *
 * 1. A 60-minute 720p video (25 fps, H.264) made with ffmpeg from photos of the openset folder:
 *    enrolled people (their probe photos, not the enrolled ones) and strangers, shown at known
 *    times, at most two at once, with empty stretches. Cached outside the repository with the
 *    gallery of the 100 enrolled people (`facerec enroll`) and the frames of (3).
 * 2. Count sampling's extraction cost: 10 frames from the first minute and from the whole hour.
 * 3. The engine's floor for the frames the pipeline analyses at one frame a second: the same
 *    frames (extracted by the pipeline's own code, before timing) through the face engine and the
 *    gallery, nothing else: in one process at 1 and at <cores> frames at once, and in <cores>
 *    processes side by side with one onnxruntime thread each; the fastest is the floor.
 * 4. The pipeline end to end: `facerec run <video> --sample 1/s` on a fresh local stack (upload,
 *    segments extracted in parallel, Distributed Map, result), timed from upload to result.
 * 5. The floor again (the machine is shared: its load changes), then the ratio to the mean floor,
 *    and the answer: every enrolled person shown found with intervals within 2 s of the truth,
 *    strangers Unknown (no name given to a face where no enrolled person was shown).
 *
 * Prints everything (with the load average of each phase); writes nothing to the repository.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../functions/config.js';
import { mapLimit } from '../functions/core/concurrency.js';
import { extractAtTimes, extractByRate } from '../functions/core/ffmpeg/timed-frames.js';
import { createFaceEngine } from '../functions/core/faces/engine.js';
import { resolveFfmpeg } from '../functions/core/ffmpeg/binary.js';
import { readGallery } from '../functions/core/gallery/read.js';
import { flag, option } from './args.js';
import { background, repoRoot } from './face-frames.js';
import { seededRandom } from './openset-pairs-make.js';
import { freshLocalStackEnv, runFacerec } from './run-facerec.js';

const execFileAsync = promisify(execFile);
const DATA = path.resolve(option('--data', path.join(repoRoot, '..', 'shared', 'data', 'openset')));
const CACHE = path.resolve(
  option(
    '--cache',
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'facerec-bench', 'long-video'),
  ),
);
const MINUTES = Number(option('--minutes', '60'));
const DURATION = MINUTES * 60;
const WIDTH = 1280;
const HEIGHT = 720;
const FACE_HEIGHT = 340;
const TOLERANCE_SEC = 2;
/** Bump when the video's recipe changes (the cache key). */
const RECIPE = 'v2';

const load = () => os.loadavg()[0].toFixed(1);
const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
const say = (s: string) => console.log(s);
const ffmpegPath = () => {
  const p = loadConfig().pipeline.ffmpeg;
  return resolveFfmpeg({ explicitPath: p.path, searchPath: p.searchPath }).path;
};

interface Person {
  name: string;
  photo: string;
  enrolled: boolean;
}
interface Appearance {
  person: Person;
  slot: 0 | 1;
  start: number;
  end: number;
}

async function people(): Promise<{ enrolled: Person[]; strangers: Person[] }> {
  const pick = async (folder: string, every: number, count: number, enrolled: boolean) => {
    const names = (await readdir(path.join(DATA, folder))).sort();
    const out: Person[] = [];
    for (let i = 0; i < names.length && out.length < count; i += every) {
      const files = (await readdir(path.join(DATA, folder, names[i])))
        .filter((f) => /\.jpe?g$/i.test(f))
        .sort();
      out.push({ name: names[i], photo: path.join(DATA, folder, names[i], files[0]), enrolled });
    }
    return out;
  };
  return {
    enrolled: await pick('probe-known', 5, 20, true),
    strangers: await pick('probe-strangers', 30, 20, false),
  };
}

/**
 * Who is shown when: two screen slots filled one after the other with appearances of 15-120 s,
 * sometimes back to back, sometimes with an empty stretch of up to 2.5 minutes (so that they
 * spread over the whole video); every enrolled person twice,
 * every stranger once; never the same person twice at once, and at least 10 s between two
 * appearances of one person (closer ones would be one interval).
 */
function schedule(all: { enrolled: Person[]; strangers: Person[] }): Appearance[] {
  const rand = seededRandom(23);
  const tokens = [...all.enrolled, ...all.enrolled, ...all.strangers];
  for (let i = tokens.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [tokens[i], tokens[j]] = [tokens[j], tokens[i]];
  }
  const out: Appearance[] = [];
  const clock = [Math.floor(rand() * 20), 5 + Math.floor(rand() * 40)];
  const clashes = (p: Person, start: number, end: number) =>
    out.some((a) => a.person === p && start < a.end + 10 && end > a.start - 10);
  while (tokens.length > 0) {
    const slot = (clock[0] <= clock[1] ? 0 : 1) as 0 | 1;
    const start = clock[slot];
    const duration = 15 + Math.floor(rand() * 106);
    const end = start + duration;
    if (end > DURATION - 5) break;
    const k = tokens.findIndex((p) => !clashes(p, start, end));
    if (k < 0) {
      clock[slot] += 10;
      continue;
    }
    out.push({ person: tokens.splice(k, 1)[0], slot, start, end });
    // Gaps of up to 2.5 minutes spread the appearances over the whole video.
    clock[slot] = end + (rand() < 0.3 ? 0 : Math.floor(rand() * 151));
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * Writes a cached file under a temporary name and renames it when `write` finished: a benchmark
 * stopped while ffmpeg wrote left a truncated lecture.mp4 (no moov atom) that later runs took
 * for the cached video.
 */
async function writeWhole(file: string, write: (partial: string) => Promise<unknown>): Promise<void> {
  const partial = `${file}.partial-${process.pid}${path.extname(file)}`;
  try {
    await write(partial);
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
}

async function makeVideo(apps: Appearance[], file: string): Promise<void> {
  const scenesDir = path.join(path.dirname(file), 'scenes');
  await rm(scenesDir, { recursive: true, force: true });
  await mkdir(scenesDir, { recursive: true });
  const cuts = [...new Set([0, DURATION, ...apps.flatMap((a) => [a.start, a.end])])].sort((a, b) => a - b);
  const photos = new Map<string, Buffer>();
  const photo = async (p: Person) => {
    if (!photos.has(p.photo)) {
      photos.set(
        p.photo,
        await sharp(p.photo).resize({ height: FACE_HEIGHT }).removeAlpha().png().toBuffer(),
      );
    }
    return photos.get(p.photo)!;
  };
  const lines = ['ffconcat version 1.0'];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [from, to] = [cuts[i], cuts[i + 1]];
    const shown = apps.filter((a) => a.start <= from && a.end >= to);
    const layers = await Promise.all(
      shown.map(async (a) => ({ input: await photo(a.person), left: a.slot === 0 ? 190 : 750, top: 190 })),
    );
    const scene = path.join(scenesDir, `scene-${String(i).padStart(4, '0')}.jpg`);
    await sharp(await background(WIDTH, HEIGHT, i + 1))
      .composite(layers)
      .jpeg({ quality: 92 })
      .toFile(scene);
    lines.push(`file '${scene}'`, `duration ${to - from}`);
  }
  // The concat demuxer needs the last file again to end on its duration.
  lines.push(lines.at(-2)!);
  const list = path.join(scenesDir, 'scenes.ffconcat');
  await writeFile(list, `${lines.join('\n')}\n`);
  const ffmpeg = ffmpegPath();
  await writeWhole(file, (partial) =>
    execFileAsync(ffmpeg, [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list],
      ...['-vf', 'fps=25,format=yuv420p', '-t', String(DURATION)],
      ...[
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-tune',
        'stillimage',
        '-movflags',
        '+faststart',
        partial,
      ],
    ]),
  );
  await rm(scenesDir, { recursive: true, force: true });
}

/** Each person's shown intervals (touching or overlapping appearances merged). */
function truthOf(apps: Appearance[]): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  for (const a of apps) {
    const list = out.get(a.person.name) ?? [];
    list.push([a.start, a.end]);
    out.set(a.person.name, list);
  }
  for (const list of out.values()) list.sort((x, y) => x[0] - y[0]);
  return out;
}

/**
 * The engine alone on the frames, nothing else: in this process at 1 and at <cores> frames at once
 * (onnxruntime-node runs each net on the calling thread, so two frames at once in one process
 * only overlap a decode with the other frame's nets), and in <cores> processes side by side with
 * one onnxruntime thread each, which is how the local functions' execution environments share
 * the cores. The fastest is the floor.
 */
async function floor(frames: string[], galleryPath: string): Promise<{ ms: number; how: string }[]> {
  const config = loadConfig();
  const engine = await createFaceEngine(config.engine);
  const gallery = await readGallery(galleryPath, undefined);
  const images = await Promise.all(frames.map((f) => readFile(f)));
  // Warm up (first-run allocations), not timed.
  for (const img of images.slice(0, 3)) await engine.identifyFaces(img, gallery);
  const out = [];
  for (const concurrency of [...new Set([1, cores])]) {
    const t0 = performance.now();
    await mapLimit(images, concurrency, (img) => engine.identifyFaces(img, gallery));
    out.push({ ms: performance.now() - t0, how: `${concurrency} at once` });
  }
  if (cores > 1)
    out.push({ ms: await floorInProcesses(frames, galleryPath, cores), how: `${cores} processes` });
  return out;
}

/** The engine in `n` processes at once, each on every n-th frame: from `go` to the last `done`. */
async function floorInProcesses(frames: string[], galleryPath: string, n: number): Promise<number> {
  const framesFile = path.join(os.tmpdir(), `facerec-floor-${process.pid}.json`);
  await writeFile(framesFile, JSON.stringify(frames));
  const threads = String(Math.max(1, Math.floor(cores / n)));
  const children = Array.from({ length: n }, (_, i) =>
    fork(
      path.join(repoRoot, 'bench', 'engine-floor-worker.ts'),
      [framesFile, galleryPath, String(i), String(n)],
      {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, FACEREC_ONNX_THREADS: threads },
      },
    ),
  );
  const said = (child: ChildProcess, type: string) =>
    new Promise<void>((resolve, reject) => {
      child.on('message', (m: { type?: string }) => m.type === type && resolve());
      child.once('exit', (code) => reject(new Error(`a floor process ended (${code}) before '${type}'`)));
    });
  try {
    await Promise.all(children.map((c) => said(c, 'ready')));
    const done = Promise.all(children.map((c) => said(c, 'done')));
    const t0 = performance.now();
    for (const c of children) c.send({ type: 'go' });
    await done;
    return performance.now() - t0;
  } finally {
    for (const c of children) c.kill();
    await rm(framesFile, { force: true });
  }
}

async function main() {
  if (!existsSync(path.join(DATA, 'probe-known'))) {
    say(`skipped: no openset data at ${DATA} (--data <folder>: gallery/, probe-known/, probe-strangers/)`);
    return;
  }
  const ffmpeg = ffmpegPath();
  /** What every extraction of this benchmark shares. */
  const from = (input: string, outDir: string) => ({ ffmpeg, input, originSec: 0, outDir });
  const cast = await people();
  const apps = schedule(cast);
  const truth = truthOf(apps);
  if (flag('--schedule')) {
    // Who is shown when (the truth the answer is checked against), then stop.
    for (const a of apps)
      say(
        `${a.start}-${a.end} ${a.slot ? 'right' : 'left '} ${a.person.name}${a.person.enrolled ? '' : ' (stranger)'}`,
      );
    return;
  }
  const key = createHash('sha256')
    .update(
      JSON.stringify({ RECIPE, MINUTES, apps: apps.map((a) => [a.person.photo, a.slot, a.start, a.end]) }),
    )
    .digest('hex')
    .slice(0, 12);
  const dir = path.join(CACHE, key);
  await mkdir(dir, { recursive: true });
  const video = path.join(dir, 'lecture.mp4');
  say(`# long-video benchmark, ${new Date().toISOString()}, ${cores} cores, load ${load()}`);
  say(
    `video: ${MINUTES} min ${WIDTH}x${HEIGHT} 25 fps H.264, ${apps.length} appearances: ` +
      `${cast.enrolled.length} enrolled people (probe photos; ${apps.filter((a) => a.person.enrolled).length} appearances), ` +
      `${cast.strangers.length} strangers; cache ${dir}`,
  );
  if (!existsSync(video)) {
    const t = performance.now();
    await makeVideo(apps, video);
    say(`  made in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  const gallery = path.join(CACHE, 'gallery.json');
  if (!existsSync(gallery)) {
    say(`enrolling the 100 people of ${path.join(DATA, 'gallery')} …`);
    const r = await runFacerec(['enroll', path.join(DATA, 'gallery'), '--gallery', gallery], process.env);
    if (r.code !== 0) throw new Error(`facerec enroll failed (${r.code})`);
  }

  // 2. Count sampling: 10 frames, 1 minute against 1 hour.
  if (!flag('--skip-count')) {
    const minute = path.join(dir, 'first-minute.mp4');
    if (!existsSync(minute)) {
      await writeWhole(minute, (partial) =>
        execFileAsync(ffmpeg, [
          ...['-hide_banner', '-loglevel', 'error', '-y'],
          ...['-i', video, '-t', '60', '-c', 'copy', partial],
        ]),
      );
    }
    for (const [label, file, d] of [
      ['1-minute', minute, 60],
      [`${MINUTES}-minute`, video, DURATION],
    ] as const) {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const out = path.join(os.tmpdir(), `facerec-count-${process.pid}-${i}`);
        await rm(out, { recursive: true, force: true });
        await mkdir(out);
        const t0 = performance.now();
        const times10 = Array.from({ length: 10 }, (_, j) => (j * d) / 10);
        const r = await extractAtTimes({ ...from(file, out), timeoutMs: 300_000, times: times10 });
        times.push(performance.now() - t0);
        if (r.frames.length !== 10) throw new Error(`${label}: ${r.frames.length} frames`);
        await rm(out, { recursive: true, force: true });
      }
      times.sort((a, b) => a - b);
      say(
        `count sampling, 10 frames of the ${label} video: ${times.map((t) => `${(t / 1000).toFixed(2)} s`).join(', ')} (load ${load()})`,
      );
    }
  }

  // 3. The frames the pipeline analyses (its own extraction code), then the floor.
  const framesDir = path.join(dir, 'frames-1s');
  if (!existsSync(path.join(framesDir, 'done'))) {
    await rm(framesDir, { recursive: true, force: true });
    await mkdir(framesDir, { recursive: true });
    const t0 = performance.now();
    const r = await extractByRate({
      ...from(video, framesDir),
      periodSec: 1,
      startSec: 0,
      endSec: DURATION,
      maxFrames: DURATION + 2,
      fps: 25,
      timeoutMs: 3_600_000,
    });
    say(
      `frames for the floor: ${r.frames.length} in ${((performance.now() - t0) / 1000).toFixed(0)} s (one ffmpeg, reference frames only: ${r.referenceFramesOnly})`,
    );
    await writeFile(path.join(framesDir, 'done'), '');
  }
  const frames = (await readdir(framesDir))
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => path.join(framesDir, f));
  const floors: number[] = [];
  const measureFloor = async (when: string) => {
    if (flag('--skip-floor')) return;
    const l = load();
    const runs = await floor(frames, gallery);
    const best = Math.min(...runs.map((r) => r.ms));
    floors.push(best);
    say(
      `engine floor (${when}): ${frames.length} frames, ${runs.map((r) => `${(r.ms / 1000).toFixed(1)} s ${r.how}`).join(', ')} -> ${(best / 1000).toFixed(1)} s (${(best / frames.length).toFixed(1)} ms a frame; load ${l} -> ${load()})`,
    );
  };
  await measureFloor('before');

  // 4. The pipeline.
  const local = path.join(CACHE, `local-${process.pid}`);
  const env = await freshLocalStackEnv(local);
  const outDir = path.join(dir, 'outputs');
  await rm(outDir, { recursive: true, force: true });
  const loadBefore = load();
  const r = await runFacerec(
    ['run', video, '--gallery', gallery, '--sample', '1/s', '--json', '--out', outDir, '--timeout', '90m'],
    env,
  );
  const out = JSON.parse(r.stdout) as {
    summary: { wallSeconds: number; succeeded: number };
    videos: Array<{ status: string; frames?: number; seconds?: number }>;
  };
  const pipelineSec = out.summary.wallSeconds;
  say(
    `pipeline (facerec run --sample 1/s): ${out.videos[0].status}, ${out.videos[0].frames} frames, ` +
      `${pipelineSec.toFixed(1)} s from upload to result (load ${loadBefore} -> ${load()})`,
  );
  await rm(local, { recursive: true, force: true });
  const detail = JSON.parse(await readFile(path.join(outDir, 'lecture.json'), 'utf8')) as {
    people: Array<{
      name: string;
      intervals: Array<{ startSec: number; endSec: number; frames: number }>;
    }>;
    unknownFaces?: number;
    frames: {
      analysed: number;
      failed: number;
      results: Array<{ timeSec?: number; faces: Array<{ name: string }> }>;
    };
    timings: {
      split?: { ffmpegMs: number; uploadMs: number; totalMs: number };
      recognition: { batches: number; totalMs: number };
    };
    appearanceGapSec: number;
  };
  say(
    `  split ${((detail.timings.split?.totalMs ?? 0) / 1000).toFixed(1)} s wall (ffmpeg ${((detail.timings.split?.ffmpegMs ?? 0) / 1000).toFixed(1)} s summed over segments), ` +
      `${detail.timings.recognition.batches} recognition batches (${(detail.timings.recognition.totalMs / 1000).toFixed(1)} s summed); ` +
      `frames analysed ${detail.frames.analysed}, failed ${detail.frames.failed}; merge gap ${detail.appearanceGapSec} s`,
  );
  await measureFloor('after');

  // 5. The answer against the truth.
  const found = new Map(detail.people.map((a) => [a.name, a.intervals]));
  let enrolledOk = 0;
  const enrolledShown = cast.enrolled.filter((p) => truth.has(p.name));
  let worst = 0;
  for (const p of enrolledShown) {
    const want = truth.get(p.name)!;
    const got = found.get(p.name) ?? [];
    const errs = want.map(([s, e]) => {
      const match = got.find((g) => g.startSec < e && g.endSec >= s - TOLERANCE_SEC);
      return match ? Math.max(Math.abs(match.startSec - s), Math.abs(match.endSec - e)) : Infinity;
    });
    const ok = errs.every((x) => x <= TOLERANCE_SEC) && got.length === want.length;
    if (ok) enrolledOk++;
    worst = Math.max(worst, ...errs.filter(Number.isFinite));
    if (!ok) {
      say(
        `  MISS ${p.name}: shown ${want.map(([s, e]) => `${s}-${e}`).join(', ')}; found ${got.map((g) => `${g.startSec}-${g.endSec}`).join(', ') || 'never'}`,
      );
    }
  }
  // A name where no enrolled person of that name was shown: a stranger (or someone) misnamed.
  const wrong = [...found].filter(
    ([name, intervals]) =>
      !truth.has(name) ||
      intervals.some(
        (g) =>
          !truth.get(name)!.some(([s, e]) => g.startSec < e + TOLERANCE_SEC && g.endSec > s - TOLERANCE_SEC),
      ),
  );
  for (const [name, intervals] of wrong) {
    say(
      `  WRONG ${name}: ${intervals.map((g) => `${g.startSec}-${g.endSec} (${g.frames} frames)`).join(', ')}`,
    );
  }
  const strangerSec = apps.filter((a) => !a.person.enrolled).reduce((s, a) => s + a.end - a.start, 0);
  say(
    `enrolled people shown: ${enrolledOk}/${enrolledShown.length} found with every interval within ±${TOLERANCE_SEC} s ` +
      `(largest error ${worst.toFixed(2)} s); names given where nobody of that name was shown: ${wrong.length}; ` +
      `strangers shown ${cast.strangers.length} (${strangerSec} s on screen), unknown faces counted: ${detail.unknownFaces ?? '?'}`,
  );
  if (floors.length) {
    const mean = floors.reduce((s, x) => s + x, 0) / floors.length / 1000;
    say(
      `end to end / engine floor: ${pipelineSec.toFixed(1)} s / ${mean.toFixed(1)} s = ${(pipelineSec / mean).toFixed(2)}x (target <= 1.5x); load now ${load()}`,
    );
  }
}

await main();
