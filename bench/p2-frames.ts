/**
 * The cse546-p2 decision on single frames, without the pipeline
 * (`npx tsx bench/p2-frames.ts [--videos 300] [--keys test_069,test_201]`): the videos of
 * bench/pipeline-videos.ts, the one frame the cse546-p2 splitter takes (`ffmpeg -i <video>
 * -vframes 1 <stem>.jpg`), each through the engine and the gallery as the recognition function
 * does. Prints, per video, the name, the nearest person, the distance and the threshold, and
 * the named count; the closest calls first. Seconds, where the burst takes minutes.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../functions/config.js';
import { chooseThreshold, decideIdentities } from '../functions/core/faces/open-set.js';
import { vote } from '../functions/core/vote.js';
import { option } from './args.js';
import { benchVideos } from './pipeline-videos.js';

const run = promisify(execFile);
const N = Number(option('--videos', '300'));
const only = option('--keys', '').split(',').filter(Boolean);

const config = loadConfig();
const bench = await benchVideos(config, N);
const framesDir = path.join(bench.videosDir, 'p2-frames');
await mkdir(framesDir, { recursive: true });
const threshold = await chooseThreshold(bench.gallery, config.engine);
console.log(`engine ${bench.engine.modelId}; threshold ${threshold.reason}`);
const rows: Array<{
  key: string;
  want: string;
  name: string;
  nearest: string;
  distance: number;
  faces: number;
}> = [];
for (const video of bench.videos) {
  const key = path.basename(video, '.mp4');
  if (only.length && !only.includes(key)) continue;
  const frame = path.join(framesDir, `${key}.jpg`);
  if (!existsSync(frame))
    await run(bench.ffmpeg.path, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-i',
      video,
      '-vframes',
      '1',
      frame,
    ]);
  const analysis = await bench.engine.analyzeFaces(await readFile(frame));
  const want = bench.expected.get(`${key}.mp4`)!;
  // The recognition function's answer for a one-frame video: the vote over the frame's faces.
  const matches = await decideIdentities(
    bench.gallery,
    analysis.faces.map((f) => f.descriptor),
    config.engine,
  );
  const faces = analysis.faces.map((f, i) => ({ f, m: matches[i] }));
  const answer = vote(
    [{ faces: faces.map(({ f, m }) => ({ name: m.name, distance: m.distance, score: f.score })) }],
    {
      threshold: threshold.threshold,
    },
  );
  // The distance shown: the face nearest the wanted person, else the closest face.
  const shown =
    faces.filter(({ m }) => m.nearest === want).sort((a, b) => a.m.distance! - b.m.distance!)[0] ??
    faces.sort((a, b) => a.m.distance! - b.m.distance!)[0];
  rows.push({
    key,
    want,
    name: answer.name,
    nearest: shown?.m.nearest ?? '-',
    distance: shown?.m.distance ?? NaN,
    faces: analysis.faces.length,
  });
}
const right = rows.filter((r) => r.name === r.want).length;
const close = [...rows].sort(
  (a, b) => Math.abs(a.distance - threshold.threshold) - Math.abs(b.distance - threshold.threshold),
);
for (const r of close.slice(0, 12))
  console.log(
    `${r.key} ${r.want.padEnd(14)} -> ${r.name.padEnd(14)} nearest ${r.nearest.padEnd(14)} d=${r.distance.toFixed(4)} faces=${r.faces}`,
  );
for (const r of rows.filter((x) => x.name !== x.want))
  console.log(`WRONG ${r.key}: ${r.name} (want ${r.want}) d=${r.distance.toFixed(4)}`);
const own = rows
  .filter((r) => r.nearest === r.want)
  .map((r) => r.distance)
  .sort((a, b) => a - b);
console.log(
  `named right ${right}/${rows.length}; own-person distance median ${own[own.length >> 1]?.toFixed(4)} max ${own.at(-1)?.toFixed(4)} (threshold ${threshold.threshold.toFixed(3)})`,
);
