/**
 * Local throughput against the machine's floor (issue 22, point 2):
 * `npx tsx bench/throughput.ts [--videos N --profile P] [--no-burst]`.
 *
 * Without arguments, two scenarios: 100 one-frame videos (cse546-p2) and 300 videos of the default
 * profile, the bench videos of bench/pipeline-videos.ts, each uploaded all at once to a fresh local
 * stack (bench/burst.ts's runBurst). Printed per scenario:
 * - first upload -> last output, and the right names;
 * - the floor: each video's work done alone, one after another, as the functions do it (the
 *   splitter's ffmpeg extraction, from a small process; then the engine on its frames: decode,
 *   detection, one landmark and one descriptor run, on the onnxruntime threads the local stack
 *   gives each recognition environment), summed and divided by the cores; and the ratio;
 * - the same in CPU time (this process's threads and ffmpeg's, from the kernel's accounting),
 *   which a shared machine disturbs less: the floor's CPU over the cores, the CPU the burst used,
 *   and how busy the cores were kept (CPU used / (cores x burst time));
 * - the load average before and after (the machine may be shared: wall times are upper bounds).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../functions/config.js';
import type { Profile } from '../functions/core/facts.js';
import { frameLimits } from '../functions/core/ffmpeg/plan.js';
import { chooseThreshold, decideIdentities } from '../functions/core/faces/open-set.js';
import { vote } from '../functions/core/vote.js';
import { option } from './args.js';
import { runBurst } from './burst.js';
import { cpuSeconds, cpuSince } from './cpu-time.js';
import { startExtractor } from './floor-extraction.js';
import { benchVideos } from './pipeline-videos.js';
import { environmentThreads } from '../infra/local/stack.js';

interface Scenario {
  videos: number;
  profile: Profile;
}

async function measure(s: Scenario, burst: boolean): Promise<string[]> {
  const cores = os.cpus().length;
  // The engine on as many threads as the stack gives each recognition environment (one per core
  // shared out): the floor is each video's work done as the functions do it, one core's worth.
  const base = loadConfig({ ...process.env, FACEREC_PROFILE: s.profile });
  const config = loadConfig({
    ...process.env,
    FACEREC_PROFILE: s.profile,
    FACEREC_ONNX_THREADS:
      process.env.FACEREC_ONNX_THREADS ||
      String(environmentThreads(base.pipeline.local.concurrency ?? cores)),
  });
  const p = config.pipeline;
  const setup = await benchVideos(config, s.videos);
  const threshold = (await chooseThreshold(setup.gallery, config.engine)).threshold;
  const engine = setup.engine;

  // The floor: each video alone, as the splitter and recognition functions do it.
  const loadBefore = os.loadavg()[0];
  let ffmpegWall = 0;
  let engineWall = 0;
  let ffmpegCpu = 0;
  let engineCpu = 0;
  let frames = 0;
  let named = 0;
  const work = await mkdtemp(path.join(os.tmpdir(), 'facerec-throughput-'));
  const extractor = startExtractor();
  try {
    for (const [i, video] of setup.videos.entries()) {
      const key = path.basename(video);
      const stem = key.replace(/\.mp4$/, '');
      const outDir = await mkdtemp(path.join(work, `${i}-`));
      const limits = frameLimits({ profile: p.profile, stem, ...p.frames });
      // ffmpeg from a small process, as the splitter's environment starts it: a spawn from this
      // process (the engine loaded) copies its memory map and would count as ffmpeg's time.
      const extraction = await extractor.extract({
        ffmpeg: setup.ffmpeg.path,
        profile: p.profile,
        stem,
        videoPath: video,
        outDir,
        frames: limits.frames,
        maxFrames: limits.maxFrames,
        timeoutMs: 120_000,
      });
      const c1 = cpuSeconds();
      const t1 = performance.now();
      const detected = [];
      for (const f of extraction.frames)
        detected.push(await engine.detect(await engine.decode(await readFile(f.file))));
      const analyses = await engine.analyzeDetected(detected);
      const t2 = performance.now();
      const c2 = cpuSince(c1);
      ffmpegWall += extraction.wallMs;
      engineWall += t2 - t1;
      ffmpegCpu += extraction.cpuS;
      engineCpu += c2.self + c2.children;
      frames += extraction.frames.length;
      const matches = await decideIdentities(
        setup.gallery,
        analyses.flatMap((a) => a.faces.map((f) => f.descriptor)),
        config.engine,
      );
      let next = 0;
      const answer = vote(
        analyses.map((a) => ({
          faces: a.faces.map((f) => {
            const m = matches[next++];
            return { name: m.name, distance: m.distance, score: f.score };
          }),
        })),
        { threshold },
      );
      if (answer.name === setup.expected.get(key)) named++;
      await rm(outDir, { recursive: true, force: true });
    }
  } finally {
    await extractor.close();
    await rm(work, { recursive: true, force: true });
  }
  const floorS = (ffmpegWall + engineWall) / 1000 / cores;
  const floorCpuS = (ffmpegCpu + engineCpu) / cores;
  const s1 = (x: number) => x.toFixed(1);
  const lines = [
    `### ${s.videos} videos, profile ${s.profile} (${frames} frames in all)`,
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npx tsx bench/throughput.ts --videos ${s.videos} --profile ${s.profile}\`, ${cores} cores, load average ${loadBefore.toFixed(2)} before the floor.`,
    '',
    '| figure | value |',
    '|---|---|',
    `| floor: per-video ffmpeg + engine, one video at a time, summed / ${cores} cores | **${s1(floorS)} s** (ffmpeg ${s1(ffmpegWall / 1000)} s + engine ${s1(engineWall / 1000)} s, wall; ${named}/${s.videos} named right) |`,
    `| floor in CPU time / ${cores} cores | ${s1(floorCpuS)} s (ffmpeg ${s1(ffmpegCpu)} s + engine ${s1(engineCpu)} s of CPU) |`,
  ];
  if (!burst) return lines;

  const loadBurst = os.loadavg()[0];
  const c0 = cpuSeconds();
  const r = await runBurst({
    videos: setup.videos,
    expected: setup.expected,
    concurrency: s.videos,
    dir: path.join(setup.benchDir, `throughput-${s.profile}-${s.videos}`),
    env: { FACEREC_GALLERY: setup.galleryPath, FACEREC_PROFILE: s.profile },
  });
  const used = cpuSince(c0);
  const burstS = (r.report.totalMs ?? NaN) / 1000;
  const cpuS = used.self + used.children;
  lines.push(
    `| first upload -> last output, all ${s.videos} uploaded at once (local stack) | **${s1(burstS)} s**; right names ${r.correct}/${r.videos}, failed ${r.failed}, timed out ${r.timedOut} |`,
    `| ratio to the floor (wall) | **${(burstS / floorS).toFixed(2)}** |`,
    `| CPU used by the run (stack start to stop: this process ${s1(used.self)} s, execution environments with their ffmpeg ${s1(used.children)} s) | ${s1(cpuS)} s, ${((cpuS / cores / burstS) * 100).toFixed(0)}% of ${cores} cores over the burst time |`,
    `| load average before the burst / after | ${loadBurst.toFixed(2)} / ${os.loadavg()[0].toFixed(2)} |`,
  );
  if (r.wrong.length) lines.push('', `Wrong or missing: ${r.wrong.slice(0, 10).join('; ')}`);
  return lines;
}

const one = option('--videos', '');
const scenarios: Scenario[] = one
  ? [{ videos: Number(one), profile: option('--profile', 'cse546-p2') as Profile }]
  : [
      { videos: 100, profile: 'cse546-p2' },
      { videos: 300, profile: 'default' },
    ];
const burst = !process.argv.includes('--no-burst');
for (const s of scenarios) console.log((await measure(s, burst)).join('\n') + '\n');
