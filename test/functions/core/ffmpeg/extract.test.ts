import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { extractFrames } from '#functions/core/ffmpeg/extract.js';
import { evenTimestamps, ffmpegBudgetMs, planExtraction } from '#functions/core/ffmpeg/plan.js';
import { parseDuration, parseProbe, refuseHugeFrames } from '#functions/core/ffmpeg/probe.js';
import {
  ffmpegCommand,
  FfmpegError,
  ffmpegMemoryCapBytes,
  ffmpegReason,
  runFfmpeg,
} from '#functions/core/ffmpeg/run.js';
import { resolveFfmpeg } from '#functions/core/ffmpeg/binary.js';
import {
  audioOnly,
  ffmpegPath,
  garbage,
  patternVideo,
  SAMPLE_IMAGES,
  tempDir,
  truncated,
  videoFromImage,
} from '#test/support/videos.js';

const ffmpeg = ffmpegPath();
let dir: string;
let clip: string;

beforeAll(async () => {
  dir = tempDir();
  clip = await videoFromImage(SAMPLE_IMAGES[0], path.join(dir, 'clip.mp4'), { seconds: 2, height: 480 });
});

function outDir(name: string) {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  return d;
}

const base = { ffmpeg, stem: 'test_00', frames: 10, maxFrames: 100, timeoutMs: 20_000 };

describe('ffmpeg arguments per profile', () => {
  test('cse546-p2 is the original part 2 command', () => {
    const plan = planExtraction({
      profile: 'cse546-p2',
      stem: 'v/test_03',
      videoPath: 'in.mp4',
      outDir: '/o',
      frames: 10,
    });
    expect(plan.runs).toHaveLength(1);
    expect(plan.runs[0].slice(-5)).toEqual(['-i', 'in.mp4', '-vframes', '1', '/o/test_03.jpg']);
  });

  test('cse546-p1 is the original part 1 command, verbatim', () => {
    const plan = planExtraction({
      profile: 'cse546-p1',
      stem: 'test_03',
      videoPath: 'in.mp4',
      outDir: '/o',
      frames: 3,
    });
    const args = plan.runs[0];
    const from = args.indexOf('-ss');
    expect(args.slice(from)).toEqual(
      '-ss 0 -r 1 -i in.mp4 -vf fps=1/10 -start_number 0 -vframes 10 /o/output-%02d.jpg'.split(' '),
    );
  });

  test('default: one pass for short videos, input seeking in chunks for long ones', () => {
    const short = planExtraction({
      profile: 'default',
      stem: 's',
      videoPath: 'in.mp4',
      outDir: '/o',
      frames: 10,
      durationSec: 20,
    });
    expect(short.runs).toHaveLength(1);
    expect(short.runs[0]).toContain('fps=fps=10/20.000');
    const long = planExtraction({
      profile: 'default',
      stem: 's',
      videoPath: 'in.mp4',
      outDir: '/o',
      frames: 20,
      durationSec: 3 * 3600,
    });
    expect(long.runs).toHaveLength(3);
    expect(long.runs[0].filter((a) => a === '-i')).toHaveLength(8);
    expect(long.times).toEqual(evenTimestamps(3 * 3600, 20));
    expect(long.runs[2].at(-1)).toBe('/o/frame-0019.jpg');
  });

  test('parseDuration and evenTimestamps', () => {
    expect(parseDuration('  Duration: 01:02:03.50, start: 0.000000')).toBeCloseTo(3723.5);
    expect(parseDuration('Duration: N/A, bitrate: N/A')).toBeUndefined();
    expect(evenTimestamps(10, 5)).toEqual([0, 2, 4, 6, 8]);
  });
});

describe('extractFrames with real ffmpeg', () => {
  test('cse546-p2: one frame named <stem>.jpg, a real JPEG of the video size', async () => {
    const out = outDir('p2');
    const r = await extractFrames({ ...base, profile: 'cse546-p2', videoPath: clip, outDir: out });
    expect(r.frames.map((f) => f.fileName)).toEqual(['test_00.jpg']);
    const meta = await sharp(r.frames[0].file).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.height).toBe(480);
  });

  test('cse546-p1: output-00.jpg … in order', async () => {
    const out = outDir('p1');
    const r = await extractFrames({ ...base, profile: 'cse546-p1', videoPath: clip, outDir: out });
    expect(r.frames.length).toBeGreaterThanOrEqual(1);
    expect(r.frames.length).toBeLessThanOrEqual(10);
    expect(r.frames[0].fileName).toBe('output-00.jpg');
  });

  test('default: N frames spread over the video, with their times', async () => {
    const out = outDir('default');
    const r = await extractFrames({ ...base, profile: 'default', frames: 4, videoPath: clip, outDir: out });
    expect(r.durationSec).toBeCloseTo(2, 1);
    expect(r.frames.map((f) => f.fileName)).toEqual([
      'frame-0000.jpg',
      'frame-0001.jpg',
      'frame-0002.jpg',
      'frame-0003.jpg',
    ]);
    expect(r.frames.map((f) => f.timeSec)).toEqual([0, 0.5, 1, 1.5]);
  });

  test('default with a long video: frames by seeking', async () => {
    const long = await patternVideo(path.join(dir, 'long.mp4'), 150, '160x120');
    const out = outDir('long');
    const r = await extractFrames({ ...base, profile: 'default', frames: 10, videoPath: long, outDir: out });
    expect(r.runs).toBe(2);
    expect(r.frames).toHaveLength(10);
    expect(r.frames[9].timeSec).toBe(135);
  });

  test('maxFrames caps the frames kept', async () => {
    const out = outDir('capped');
    const r = await extractFrames({
      ...base,
      profile: 'cse546-p1',
      maxFrames: 3,
      videoPath: clip,
      outDir: out,
    });
    expect(r.frames.length).toBeLessThanOrEqual(3);
  });

  const bad = async (profile: 'default' | 'cse546-p2' | 'cse546-p1', file: string) => {
    const out = outDir(`bad-${profile}-${path.basename(file)}`);
    const err = await extractFrames({ ...base, profile, videoPath: file, outDir: out }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FfmpegError);
    return err as FfmpegError;
  };

  test.each(['default', 'cse546-p2', 'cse546-p1'] as const)(
    '%s: bad inputs give clear errors',
    async (profile) => {
      const empty = path.join(dir, 'empty.mp4');
      writeFileSync(empty, '');
      expect((await bad(profile, empty)).message).toMatch(/empty/);
      const junk = garbage(path.join(dir, 'junk.mp4'));
      const e1 = await bad(profile, junk);
      expect(['not-a-video', 'decode']).toContain(e1.kind);
      expect(e1.message).not.toContain(junk);
      const text = path.join(dir, 'text.mp4');
      writeFileSync(text, 'this is not a video\n'.repeat(100));
      expect(['not-a-video', 'decode']).toContain((await bad(profile, text)).kind);
      const cut = truncated(clip, path.join(dir, `cut-${profile}.mp4`), 0.02);
      expect(['not-a-video', 'decode']).toContain((await bad(profile, cut)).kind);
      const audio = await audioOnly(path.join(dir, 'audio.m4a'));
      expect(['not-a-video', 'decode']).toContain((await bad(profile, audio)).kind);
    },
  );

  test('the time limit kills ffmpeg', async () => {
    const t0 = Date.now();
    const err = await runFfmpeg(
      ffmpeg,
      ['-hide_banner', '-f', 'lavfi', '-i', 'testsrc=size=1280x720', '-f', 'null', '-'],
      {
        timeoutMs: 500,
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FfmpegError);
    expect((err as FfmpegError).kind).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test('a missing binary is a spawn error', async () => {
    const err = await runFfmpeg('/nonexistent/ffmpeg', ['-version'], { timeoutMs: 1000 }).catch(
      (e: unknown) => e,
    );
    expect((err as FfmpegError).kind).toBe('spawn');
  });
});

describe('ffmpeg binary resolution', () => {
  test('FFMPEG_PATH first, then PATH, then @ffmpeg-installer', () => {
    expect(resolveFfmpeg({ explicitPath: ffmpeg, searchPath: '' })).toEqual({
      path: ffmpeg,
      source: 'FFMPEG_PATH',
    });
    expect(() => resolveFfmpeg({ explicitPath: '/nonexistent/ffmpeg', searchPath: '' })).toThrow(
      /FFMPEG_PATH/,
    );
    const bin = tempDir('ffbin-');
    const fake = path.join(bin, 'ffmpeg');
    writeFileSync(fake, '#!/bin/sh\n', { mode: 0o755 });
    expect(resolveFfmpeg({ searchPath: `/nonexistent:${bin}` })).toEqual({ path: fake, source: 'system' });
    const fallback = resolveFfmpeg({ searchPath: '/nonexistent' });
    expect(fallback.source).toBe('@ffmpeg-installer');
    expect(readdirSync(path.dirname(fallback.path))).toContain('ffmpeg');
  });
});

describe('ffmpegReason', () => {
  test("says what the complaint means, with ffmpeg's line", () => {
    const truncatedMp4 = [
      '[h264 @ 0x1] Invalid NAL unit size (685 > 593).',
      '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x2] stream 0, offset 0x23ee7: partial file',
      'Invalid data found when processing input',
      'Error marking filters as finished',
    ].join('\n');
    expect(ffmpegReason(truncatedMp4)).toBe(
      'the file is truncated (ffmpeg: stream 0, offset 0x23ee7: partial file)',
    );
    expect(
      ffmpegReason('[mov @ 0x1] moov atom not found\nx.mp4: Invalid data found when processing input'),
    ).toMatch(/^the file is truncated or damaged/);
    expect(ffmpegReason('x: Invalid data found when processing input')).toMatch(
      /^ffmpeg cannot read this format/,
    );
    expect(ffmpegReason('')).toBe('ffmpeg gave no reason');
  });
});

describe('ffmpeg time budget (issue 12)', () => {
  const hd = { width: 1920, height: 1080, fps: 30 };

  test('scales with duration, resolution and frame rate; never the old fixed 20 s for a long clip', () => {
    const clip90 = ffmpegBudgetMs({ profile: 'default', frames: 10, durationSec: 90, ...hd });
    // 2,700 frames of 1080p at the pessimistic decoding speed, plus the floor.
    expect(clip90).toBeGreaterThan(100_000);
    expect(ffmpegBudgetMs({ profile: 'default', frames: 10, durationSec: 10, ...hd })).toBeLessThan(
      clip90 / 5,
    );
    expect(
      ffmpegBudgetMs({ profile: 'default', frames: 10, durationSec: 90, width: 640, height: 360, fps: 30 }),
    ).toBeLessThan(clip90 / 4);
    expect(
      ffmpegBudgetMs({ profile: 'default', frames: 10, durationSec: 90, ...hd, fps: 60 }),
    ).toBeGreaterThan(clip90 * 1.8);
    // A short small clip is stopped early if ffmpeg hangs.
    expect(
      ffmpegBudgetMs({ profile: 'default', frames: 10, durationSec: 2, width: 320, height: 240, fps: 25 }),
    ).toBeLessThan(11_000);
  });

  test('follows what each profile decodes', () => {
    const long = { durationSec: 3600, ...hd, frames: 10 };
    const p2 = ffmpegBudgetMs({ profile: 'cse546-p2', ...long });
    const p1 = ffmpegBudgetMs({ profile: 'cse546-p1', ...long });
    const seek = ffmpegBudgetMs({ profile: 'default', ...long });
    // p2 reads the first frame, p1 about 100 re-timed frames, default seeks 10 times.
    expect(p2).toBeLessThan(30_000);
    expect(p1).toBeLessThan(p2);
    expect(seek).toBeGreaterThan(p2);
    // The long-video plan seeks: an hour costs no more than 10 seeks, far less than decoding it all.
    expect(seek).toBeLessThan(ffmpegBudgetMs({ profile: 'default', frames: 10, durationSec: 120, ...hd }));
    // Unknown values count as large.
    expect(ffmpegBudgetMs({ profile: 'default', frames: 10 })).toBeGreaterThanOrEqual(
      ffmpegBudgetMs({ profile: 'default', frames: 10, durationSec: 5, ...hd }),
    );
  });

  test('parseProbe reads size, rate, audio-only and still images from ffmpeg', () => {
    const video = parseProbe(
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'v.mp4':\n  Duration: 00:01:30.00, start: 0.000000, bitrate: 8000 kb/s\n" +
        '    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 1920x1080 [SAR 1:1 DAR 16:9], 7998 kb/s, 29.97 fps, 29.97 tbr, 30k tbn, 59.94 tbc (default)\n',
    );
    expect(video).toMatchObject({
      durationSec: 90,
      hasVideo: true,
      audioOnly: false,
      width: 1920,
      height: 1080,
      fps: 29.97,
    });
    expect(video.image).toBeUndefined();
    const audio = parseProbe(
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'a.mp4':\n    Stream #0:0(und): Audio: aac (LC), 44100 Hz, mono, fltp, 69 kb/s\n",
    );
    expect(audio).toMatchObject({ hasVideo: false, audioOnly: true });
    const png = parseProbe(
      "Input #0, png_pipe, from 'x.mp4':\n  Duration: N/A, bitrate: N/A\n    Stream #0:0: Video: png, rgb24(pc), 640x480, 25 tbr, 25 tbn, 25 tbc\n",
    );
    expect(png).toMatchObject({ hasVideo: true, image: 'png', width: 640, height: 480 });
  });

  test('a real 1080p clip gets a budget above what it takes, and its frames', async () => {
    const hdClip = await patternVideo(path.join(dir, 'hd.mp4'), 2, '1920x1080');
    const out = outDir('hd');
    const r = await extractFrames({
      ...base,
      timeoutMs: 600_000,
      profile: 'default',
      frames: 5,
      videoPath: hdClip,
      outDir: out,
    });
    expect(r.frames).toHaveLength(5);
    expect(r.budgetMs).toBe(
      ffmpegBudgetMs({
        profile: 'default',
        frames: 5,
        durationSec: r.durationSec,
        width: 1920,
        height: 1080,
        fps: 25,
      }),
    );
    expect(r.ffmpegMs).toBeLessThan(r.budgetMs);
  });
});

describe('failure reasons and odd keys (issue 12)', () => {
  test.each(['default', 'cse546-p2', 'cse546-p1'] as const)(
    '%s: audio-only, image named .mp4, undecodable: one clear reason each',
    async (profile) => {
      const run = (file: string) =>
        extractFrames({
          ...base,
          profile,
          videoPath: file,
          outDir: outDir(`why-${profile}-${path.basename(file)}`),
        }).catch((e: unknown) => e as FfmpegError);
      const audio = await run(await audioOnly(path.join(dir, `voice-${profile}.mp4`)));
      expect(audio).toMatchObject({
        kind: 'not-a-video',
        message: 'not a video: the file has audio but no video stream',
      });
      const png = path.join(dir, `photo-${profile}.mp4`);
      await sharp({ create: { width: 64, height: 48, channels: 3, background: '#888' } })
        .png()
        .toFile(png);
      expect(await run(png)).toMatchObject({
        kind: 'not-a-video',
        message: expect.stringMatching(/^not a video: the file is a still image \(png\)/),
      });
      const jpg = path.join(dir, `photo-${profile}.mov`);
      await sharp({ create: { width: 64, height: 48, channels: 3, background: '#888' } })
        .jpeg()
        .toFile(jpg);
      expect(await run(jpg)).toMatchObject({
        kind: 'not-a-video',
        message: expect.stringMatching(/still image/),
      });
      const cut = await run(truncated(clip, path.join(dir, `half-${profile}.mp4`), 0.02));
      expect(cut).toBeInstanceOf(FfmpegError);
      for (const e of [audio, cut] as FfmpegError[]) {
        expect(e.message).not.toContain(dir);
        expect(e.stderrTail).not.toContain(dir);
      }
    },
  );

  test('cse546-p2: stems with %, spaces, unicode and 240+ bytes still give their frame', async () => {
    for (const stem of [
      '100% real',
      'a%02d b',
      'x%%y',
      'clip %s %n',
      'ünï ✓ 视频',
      `dir/${'L'.repeat(250)}`,
    ]) {
      const out = outDir(`pct-${Buffer.from(stem).toString('hex').slice(0, 40)}`);
      const r = await extractFrames({ ...base, profile: 'cse546-p2', stem, videoPath: clip, outDir: out });
      expect(r.frames).toHaveLength(1);
      expect(Buffer.byteLength(r.frames[0].fileName)).toBeLessThanOrEqual(200);
    }
  });
});

describe('media limits before decoding (issue 21, finding 6)', () => {
  test('frames larger than the engine reads are refused from the probe: nothing decoded, nothing written', async () => {
    const out = outDir('huge');
    const started = Date.now();
    const err = await extractFrames({
      ...base,
      profile: 'default',
      videoPath: clip,
      outDir: out,
      // The clip is 480 lines high: one pixel less than its frames is "the engine's limit".
      maxFramePixels: 640 * 480 - 1,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FfmpegError);
    expect((err as FfmpegError).kind).toBe('too-large');
    expect((err as Error).message).toMatch(/frames are too large: \d+x480 .* refused before decoding/);
    expect(readdirSync(out)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(refuseHugeFramesOf(16000, 9000, 100e6)).toMatch(/16000x9000 \(144\.0 MP\) exceeds the 100 MP/);
    expect(refuseHugeFramesOf(1920, 1080, 100e6)).toBeUndefined();
  });

  test('ffmpeg runs under its memory cap where prlimit exists: past it, a too-large error, not a machine out of memory', async () => {
    const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));
    if (!prlimit) {
      console.warn('skipped: no prlimit on this machine (the cap is enforced only where it exists)');
      return;
    }
    const big = await patternVideo(path.join(dir, 'big.mp4'), 1, '3840x2160');
    const err = await extractFrames({
      ...base,
      profile: 'default',
      videoPath: big,
      outDir: outDir('capped'),
      memoryCap: { bytes: 150 * 1024 * 1024, prlimit },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FfmpegError);
    expect((err as FfmpegError).kind).toBe('too-large');
    // The same clip under a cap that fits it decodes.
    const ok = await extractFrames({
      ...base,
      profile: 'default',
      videoPath: big,
      outDir: outDir('uncapped'),
      memoryCap: { bytes: 2048 * 1024 * 1024, prlimit },
    });
    expect(ok.frames.length).toBeGreaterThan(0);
  }, 60_000);

  test('the cap: explicit, Lambda memory less what Node keeps, or half the machine over the concurrency', () => {
    const GB = 1024 ** 3;
    expect(ffmpegMemoryCapBytes({ explicitMb: 700, totalMemBytes: 24 * GB, concurrency: 2 })).toBe(
      700 * 1024 ** 2,
    );
    expect(ffmpegMemoryCapBytes({ lambdaMemoryMb: 2048, totalMemBytes: 4 * GB, concurrency: 1 })).toBe(
      1792 * 1024 ** 2,
    );
    // 24 GiB, 2 splitters: capped at 4 GB each (x2 = 8 GB fits); 4 GiB, 8 splitters: 512 MB floor.
    expect(ffmpegMemoryCapBytes({ totalMemBytes: 24 * GB, concurrency: 2 })).toBe(4 * GB);
    expect(ffmpegMemoryCapBytes({ totalMemBytes: 4 * GB, concurrency: 8 })).toBe(512 * 1024 ** 2);
    expect(ffmpegMemoryCapBytes({ totalMemBytes: 16 * GB, concurrency: 4 })).toBe(2 * GB);
    expect(ffmpegCommand('ffmpeg', ['-i', 'v'], { bytes: 1000, prlimit: '/usr/bin/prlimit' })).toEqual([
      '/usr/bin/prlimit',
      ['--as=1000', 'ffmpeg', '-i', 'v'],
    ]);
    expect(ffmpegCommand('ffmpeg', ['-i', 'v'], { bytes: 1000 })).toEqual(['ffmpeg', ['-i', 'v']]);
  });
});

function refuseHugeFramesOf(width: number, height: number, max: number): string | undefined {
  try {
    refuseHugeFrames({ width, height }, max);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
