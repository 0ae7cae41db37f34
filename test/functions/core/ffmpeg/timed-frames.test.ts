/**
 * The default profile's extraction with real ffmpeg: every frame timed by ffmpeg (not assumed),
 * seeks before decoding, the sampling grid, segments that meet without gaps or doubles, container
 * start offsets (MPEG-TS), and a container that does not say how long it is.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import {
  extractAtTimes,
  extractByRate,
  gridSelect,
  measureDuration,
  parseStartTime,
  scrubUrls,
  seeksPerRun,
  SEEKS_PER_RUN,
} from '#functions/core/ffmpeg/timed-frames.js';
import { FUNCTION_MEMORY_MB } from '#functions/core/facts.js';
import { ShowinfoReader } from '#functions/core/ffmpeg/showinfo.js';
import { probeVideo } from '#functions/core/ffmpeg/probe.js';
import { ffmpegMemoryCapBytes } from '#functions/core/ffmpeg/run.js';
import { ffmpegPath, tempDir } from '#test/support/videos.js';

const run = promisify(execFile);
const ffmpeg = ffmpegPath();
let dir: string;
let n = 0;
const out = () => {
  const d = path.join(dir, `out-${++n}`);
  mkdirSync(d);
  return d;
};

/** A synthetic clip (25 fps, 160x120), `gop` frames between keyframes. */
async function clip(name: string, seconds: number, gop: number, extra: string[] = []): Promise<string> {
  const file = path.join(dir, name);
  await run(ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=160x120:rate=25`],
    ...[
      '-t',
      String(seconds),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      String(gop),
      '-pix_fmt',
      'yuv420p',
    ],
    ...extra,
    file,
  ]);
  return file;
}

let short: string;
let long: string;
beforeAll(async () => {
  dir = tempDir('facerec-timed-');
  short = await clip('short.mp4', 12, 25);
  long = await clip('long.mp4', 150, 250);
}, 120_000);

const base = () => ({ ffmpeg, originSec: 0, outDir: out(), timeoutMs: 60_000 });

describe('at times (count sampling)', () => {
  test('each frame is the first at or after its time, named by its number, timed by ffmpeg', async () => {
    const r = await extractAtTimes({ ...base(), input: short, times: [0, 1.01, 5.5, 11.9] });
    expect(r.frames.map((f) => [f.fileName, f.timeSec])).toEqual([
      ['frame-0000.jpg', 0],
      ['frame-0001.jpg', 1.04],
      ['frame-0002.jpg', 5.52],
      ['frame-0003.jpg', 11.92],
    ]);
    const meta = await sharp(r.frames[1].file).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 160, height: 120 });
  });

  test('a time past the end gives no frame; two times on one frame give it once', async () => {
    const r = await extractAtTimes({ ...base(), input: short, times: [11.9, 11.91, 11.99, 30] });
    expect(r.frames.map((f) => f.timeSec)).toEqual([11.92]);
    expect(r.frames[0].fileName).toBe('frame-0000.jpg');
  });

  test('frames 30 s apart or more: the keyframe before each time, one decoded frame per seek', async () => {
    // Keyframes every 10 s: each time lands within a quarter of the 37.5 s spacing of its keyframe.
    const times = [0, 37.5, 75, 112.5];
    const r = await extractAtTimes({ ...base(), input: long, times });
    expect(r.frames.map((f) => f.timeSec)).toEqual([0, 30, 70, 110]);
    expect(r.runs).toBe(1);
  });

  test('a keyframe too far from its time is taken again with an accurate seek', async () => {
    const sparse = await clip('sparse-keys.mp4', 100, 2500); // one keyframe
    const r = await extractAtTimes({ ...base(), input: sparse, times: [0, 33, 66] });
    expect(r.frames.map((f) => f.timeSec)).toEqual([0, 33, 66]);
    expect(r.runs).toBe(2);
  }, 60_000);
});

// ffmpeg runs under an address-space cap (core/ffmpeg/run.ts); the splitter's is 1,792 MB on AWS.
const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));
(PRLIMIT ? test : test.skip)(
  'a run of eight seeks into a 720p clip fits a 768 MB address-space cap (one thread an input and an output, two malloc arenas; 1.8 GB before)',
  async () => {
    const hd = path.join(dir, 'hd.mp4');
    await run(ffmpeg, [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=1280x720:rate=25'],
      ...['-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', hd],
    ]);
    const times = [0, 1, 2, 3, 4, 5, 6, 7];
    const r = await extractAtTimes({
      ...base(),
      input: hd,
      times,
      memoryCap: { bytes: 768 * 2 ** 20, prlimit: PRLIMIT },
    });
    expect(r.frames.map((f) => f.timeSec)).toEqual(times);
  },
  60_000,
);

describe('by rate (rate sampling)', () => {
  test('one frame a second: named by their tick, the first frame at or after each tick', async () => {
    const r = await extractByRate({
      ...base(),
      input: short,
      periodSec: 1,
      startSec: 0,
      endSec: 12,
      maxFrames: 100,
      fps: 25,
    });
    expect(r.frames.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(r.frames.map((f) => f.fileName).slice(0, 2)).toEqual(['frame-0000.jpg', 'frame-0001.jpg']);
    // 25 fps, reference frames only (x264 ultrafast: no B-frames): on the tick.
    for (const f of r.frames) expect(f.timeSec).toBeCloseTo(f.index, 6);
    expect(r.referenceFramesOnly).toBe(true);
    expect(readdirSync(r.frames[0].file.replace(/[^/]+$/, '')).sort()).toEqual(
      r.frames.map((f) => f.fileName).sort(),
    );
  });

  test('segments meet on the grid: together they give each tick once', async () => {
    const parts = [
      [0, 4.8],
      [4.8, 8.4],
      [8.4, 12],
    ];
    const frames = [];
    for (const [startSec, endSec] of parts) {
      const r = await extractByRate({
        ...base(),
        input: short,
        periodSec: 0.4,
        startSec,
        endSec,
        maxFrames: 100,
        fps: 25,
      });
      for (const f of r.frames) {
        expect(f.timeSec).toBeGreaterThanOrEqual(startSec - 1e-9);
        expect(f.timeSec).toBeLessThan(endSec);
      }
      frames.push(...r.frames);
    }
    expect(frames.map((f) => f.index)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    for (const f of frames) expect(f.timeSec).toBeCloseTo(f.index * 0.4, 6);
  });

  test('an MPEG-TS stream starting at 1.4 s: times from the start of the video, as a player shows them', async () => {
    const ts = await clip('clip.ts', 6, 25, ['-f', 'mpegts']);
    const probe = await probeVideo(ffmpeg, ts, { timeoutMs: 20_000 });
    const origin = parseStartTime(probe.stderr);
    expect(origin).toBeGreaterThan(1);
    const r = await extractByRate({
      ...base(),
      originSec: origin,
      input: ts,
      periodSec: 2,
      startSec: 0,
      endSec: 6,
      maxFrames: 10,
      fps: 25,
    });
    expect(r.frames.map((f) => f.timeSec)).toEqual([0, 2, 4]);
    const seek = await extractAtTimes({ ...base(), originSec: origin, input: ts, times: [3] });
    expect(seek.frames[0].timeSec).toBeCloseTo(3, 6);
  });

  test('one decoding thread (as local mode runs segments side by side): the same frames, byte for byte, at the same times', async () => {
    const common = { input: short, periodSec: 1, startSec: 2, endSec: 9, maxFrames: 100, fps: 25 };
    const own = await extractByRate({ ...base(), ...common });
    const one = await extractByRate({ ...base(), ...common, decodeThreads: 1 });
    expect(one.frames.map((f) => f.timeSec)).toEqual(own.frames.map((f) => f.timeSec));
    expect(one.frames.length).toBe(7);
    for (const [i, f] of one.frames.entries())
      expect(readFileSync(f.file).equals(readFileSync(own.frames[i].file))).toBe(true);
  });

  test('no end: to the end of the video, at most maxFrames', async () => {
    const r = await extractByRate({ ...base(), input: short, periodSec: 2, startSec: 0, maxFrames: 4 });
    expect(r.frames.map((f) => f.timeSec)).toEqual([0, 2, 4, 6]);
  });
});

test('a stream that does not say how long it is: measured by reading its packets, sampled in one pass', async () => {
  const raw = path.join(dir, 'raw.h264');
  await run(ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25'],
    ...['-t', '7', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'h264', raw],
  ]);
  const probe = await probeVideo(ffmpeg, raw, { timeoutMs: 20_000 });
  expect(probe.hasVideo).toBe(true);
  expect(probe.durationSec).toBeUndefined();
  const d = await measureDuration({ ffmpeg, input: raw, timeoutMs: 30_000 });
  expect(d).toBeGreaterThan(6.5);
  expect(d).toBeLessThanOrEqual(7.01);
  const r = await extractByRate({ ...base(), input: raw, periodSec: d! / 4, startSec: 0, maxFrames: 4 });
  expect(r.frames).toHaveLength(4);
  r.frames.forEach((f, i) => expect(f.timeSec).toBeCloseTo((i * d!) / 4, 1));
}, 60_000);

test('showinfo lines: exact times from pts and time base, other lines kept for reasons', () => {
  const r = new ShowinfoReader();
  r.push(
    '[Parsed_showinfo_1 @ 0x1] config in time_base: 1/90000, frame_rate: 25/1\n[Parsed_showinfo_1 @ 0x1] n:   0 pts: 3',
  );
  r.push(
    '24000001 pts_time:3600.00001 pos: 1 fmt:yuv420p\n[Parsed_showinfo_1 @ 0x1] color_range:unknown\nError while decoding stream\r\n',
  );
  r.push('[Parsed_showinfo_0 @ 0x2] n:   4 pts:  512 pts_time:0.04  pos: 7');
  r.end();
  expect(r.frames).toEqual([
    { filter: 1, n: 0, timeSec: 324000001 / 90000 },
    { filter: 0, n: 4, timeSec: 0.04 },
  ]);
  expect(r.stderr).toBe('Error while decoding stream');
});

test('the grid expression and URL scrubbing', () => {
  expect(gridSelect({ originSec: 1.4, periodSec: 1, startSec: 10, endSec: 20 })).toBe(
    "select='if(gte(t+1e-6\\,max(ld(0)\\,11.4))*lt(t+1e-6\\,21.4)\\,st(0\\,1.4+(floor((t-1.4)/1+1e-6)+1)*1)*0+1\\,0)'",
  );
  expect(
    scrubUrls("Input #0, mov, from 'http://127.0.0.1:4568/b/k.mp4?X-Amz-Signature=abc&X-Amz-Credential=x':"),
  ).toBe("Input #0, mov, from '<video URL>':");
});

describe("count sampling under the splitter's memory cap on Lambda", () => {
  // The splitter's cap on Lambda (and in local mode, which gives it the same memory): its memory
  // less Node's share.
  const capBytes = ffmpegMemoryCapBytes({
    lambdaMemoryMb: FUNCTION_MEMORY_MB.splitter,
    totalMemBytes: 0,
    concurrency: 1,
  });

  test('the cap leaves room for every frame size up to 8K', () => {
    expect(capBytes).toBe(1792 * 1024 * 1024);
    expect(seeksPerRun({ width: 640, height: 360, capBytes })).toBe(SEEKS_PER_RUN);
    expect(seeksPerRun({ width: 1920, height: 1080, capBytes })).toBe(SEEKS_PER_RUN);
    expect(seeksPerRun({ width: 3840, height: 2160, capBytes })).toBe(5);
    expect(seeksPerRun({ width: 7680, height: 4320, capBytes })).toBe(1);
    expect(seeksPerRun({ width: 1920, height: 1080, capBytes: 768 * 1024 * 1024 })).toBe(7);
    expect(seeksPerRun({})).toBe(SEEKS_PER_RUN);
  });

  // Before: eight 1080p seeks in one run failed under this cap ("Error reinitializing filters!",
  // glibc's per-thread malloc arenas counted as address space), and 4K failed whatever the arenas.
  test.each([
    ['1080p', 1920, 1080],
    ['4K', 3840, 2160],
  ])(
    '%s: ten frames, every one',
    async (_, width, height) => {
      if (!PRLIMIT) {
        console.warn('SKIP: no prlimit on this machine: the memory cap is not enforced here');
        return;
      }
      const file = await clip(`big-${width}.mp4`, 3, 250, ['-vf', `scale=${width}:${height}`]);
      const times = Array.from({ length: 10 }, (_, i) => i * 0.28);
      const r = await extractAtTimes({
        ...base(),
        input: file,
        times,
        width,
        height,
        memoryCap: { bytes: capBytes, prlimit: PRLIMIT },
      });
      expect(r.frames).toHaveLength(10);
      expect(r.runs).toBe(Math.ceil(10 / seeksPerRun({ width, height, capBytes })));
      const meta = await sharp(r.frames[9].file).metadata();
      expect(meta).toMatchObject({ width, height });
    },
    180_000,
  );
});
