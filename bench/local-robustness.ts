/**
 * Issue 12 (part A) benchmark (`npx tsx bench/local-robustness.ts [--clip file.mp4] [--objects 10000]`):
 *
 * 1. ffmpeg time budget: a 90 s 1080p clip (made with ffmpeg's testsrc2 plus noise at 8 Mb/s
 *    unless `--clip` is given) through the splitter's core (probe + extraction) in each profile:
 *    the budget the clip gets, the time ffmpeg took, and whether the old fixed 20 s limit held.
 * 2. the local S3 server: PUT rate (small objects, SDK), then a full ListObjectsV2 walk of
 *    `--objects` keys (pages of 1,000), and the time the store takes to load them at start.
 *
 * Prints the figures; docs/benchmarks.md ("Local mode robustness") records them.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../functions/config.js';
import { mapLimit } from '../functions/core/concurrency.js';
import { PROFILES } from '../functions/core/facts.js';
import { describeFfmpeg, ffmpegVersion, resolveFfmpeg } from '../functions/core/ffmpeg/binary.js';
import { extractFrames } from '../functions/core/ffmpeg/extract.js';
import { probeVideo } from '../functions/core/ffmpeg/probe.js';
import { bucketNames } from '../functions/core/layout.js';
import { startLocalS3 } from '../infra/local/s3/service.js';
import { FileObjectStore } from '../infra/local/s3/store.js';
import { option } from './args.js';

const run = promisify(execFile);
const p = loadConfig().pipeline;
const ffmpeg = resolveFfmpeg({ explicitPath: p.ffmpeg.path, searchPath: p.ffmpeg.searchPath }).path;
const work = path.join(os.tmpdir(), 'facerec-bench-issue12');
mkdirSync(work, { recursive: true });
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function budgetBench(): Promise<void> {
  let clip = option('--clip', '');
  if (!clip) {
    clip = path.join(work, 'clip90-1080p.mp4');
    if (!existsSync(clip)) {
      console.log('making a 90 s 1080p clip (testsrc2 + noise, 8 Mb/s) ...');
      const t0 = performance.now();
      await run(ffmpeg, [
        ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
        ...['-i', 'testsrc2=size=1920x1080:rate=30:duration=90', '-vf', 'noise=alls=10:allf=t'],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '8M', '-maxrate', '8M', '-bufsize', '16M'],
        ...['-pix_fmt', 'yuv420p', clip],
      ]);
      console.log(`  made in ${s(performance.now() - t0)}`);
    }
  }
  const probe = await probeVideo(ffmpeg, clip, { timeoutMs: 15_000 });
  console.log(`${describeFfmpeg({ path: ffmpeg, source: 'system' }, await ffmpegVersion(ffmpeg))}`);
  console.log(
    `clip ${path.basename(clip)}: ${probe.durationSec} s, ${probe.width}x${probe.height}, ${probe.fps} fps`,
  );
  for (const profile of PROFILES) {
    const outDir = path.join(work, `frames-${profile}-${Date.now()}`);
    mkdirSync(outDir);
    const t0 = performance.now();
    const r = await extractFrames({
      ffmpeg,
      profile,
      stem: 'clip90',
      videoPath: clip,
      outDir,
      frames: 10,
      maxFrames: 100,
      timeoutMs: 30 * 60_000,
    });
    const wall = performance.now() - t0;
    console.log(
      `  ${profile.padEnd(10)} frames ${String(r.frames.length).padStart(2)}  ffmpeg ${s(r.ffmpegMs).padStart(7)}  ` +
        `budget ${s(r.budgetMs).padStart(7)}  headroom x${(r.budgetMs / r.ffmpegMs).toFixed(1)}  ` +
        `old fixed 20 s limit: ${wall <= 20_000 ? 'held' : 'exceeded'}`,
    );
  }
}

async function s3Bench(): Promise<void> {
  const objects = Number(option('--objects', '10000'));
  const dir = path.join(work, `s3-${Date.now()}`);
  const buckets = bucketNames('bench');
  // The objects are written by the store directly (fast), then served by the real server.
  const t0 = performance.now();
  const store = new FileObjectStore(dir);
  store.createBucket(buckets.stage1);
  for (let i = 0; i < objects; i++) {
    await store.put(
      buckets.stage1,
      `video-${String(i % 997).padStart(4, '0')}/frame-${i}.jpg`,
      Readable.from([Buffer.from('x')]),
    );
  }
  console.log(`store: ${objects} objects written in ${s(performance.now() - t0)}`);
  const t1 = performance.now();
  const server = await startLocalS3({
    host: '127.0.0.1',
    port: 0,
    directory: dir,
    buckets,
    onInputEvent: () => undefined,
  });
  console.log(`server start (loads the ${objects} objects' metadata): ${s(performance.now() - t1)}`);
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: server.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const t2 = performance.now();
    let listed = 0;
    let pages = 0;
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: buckets.stage1, ContinuationToken: token }),
      );
      listed += page.KeyCount ?? 0;
      pages++;
      token = page.NextContinuationToken;
    } while (token);
    console.log(`ListObjectsV2: ${listed} keys in ${pages} pages, ${s(performance.now() - t2)}`);
    const n = 2000;
    const t3 = performance.now();
    await mapLimit(
      Array.from({ length: n }, (_, i) => i),
      16,
      (i) =>
        client.send(
          new PutObjectCommand({
            Bucket: buckets.input,
            Key: `burst/${i}.mp4`,
            Body: Buffer.alloc(10_000, i),
          }),
        ),
    );
    const ms = performance.now() - t3;
    console.log(
      `PUT burst: ${n} objects of 10 kB at concurrency 16 in ${s(ms)} (${Math.round((n * 1000) / ms)}/s)`,
    );
  } finally {
    client.destroy();
    await server.close();
  }
}

await budgetBench();
await s3Bench();
