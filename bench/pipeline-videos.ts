/**
 * The pipeline benchmarks' videos (bench/pipeline.ts, bench/burst.ts, bench/crash.ts): N short
 * videos (2 s, 1080p/720p/480p in turn, one face each, people from the demo photos of
 * @vladmandic/face-api), named test_00.mp4 … like the original graders' inputs, and the gallery
 * of those people. Kept under `<local dir>/bench/videos-N` between runs (remade when the spec
 * changes).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../functions/config.js';
import { mapLimit } from '../functions/core/concurrency.js';
import { enrollPeople } from '../functions/core/gallery/enroll.js';
import { createFaceEngine, type BatchFaceEngine } from '../functions/core/faces/engine.js';
import {
  describeFfmpeg,
  ffmpegVersion,
  resolveFfmpeg,
  type FfmpegBinary,
} from '../functions/core/ffmpeg/binary.js';
import { type Gallery } from '../functions/core/gallery/read.js';
import { serializeGallery } from '../functions/core/gallery/write.js';
import { demoPeople, faceCrop, personFrame } from '../cli/lib/demo-data.js';
import { stillToVideo } from '../cli/lib/still-video.js';

export const HEIGHTS = [1080, 720, 480];

export interface BenchVideos {
  benchDir: string;
  videosDir: string;
  galleryPath: string;
  /** Video files, in key order. */
  videos: string[];
  /** key -> the person in the video */
  expected: Map<string, string>;
  specs: Array<{ key: string; height: number }>;
  enrolledCount: number;
  engine: BatchFaceEngine;
  gallery: Gallery;
  ffmpeg: FfmpegBinary;
  ffmpegText: string;
}

/** `heights`: the frame heights taken in turn (bench/kill-up.ts: 480 alone, small and quick). */
export async function benchVideos(config: Config, n: number, heights = HEIGHTS): Promise<BenchVideos> {
  const benchDir = path.join(config.pipeline.local.dir, 'bench');
  const videosDir = path.join(benchDir, `videos-${n}${heights === HEIGHTS ? '' : `-${heights.join('-')}`}`);
  const galleryPath = path.join(benchDir, 'gallery.json');
  const ffmpeg = resolveFfmpeg({
    explicitPath: config.pipeline.ffmpeg.path,
    searchPath: config.pipeline.ffmpeg.searchPath,
  });
  const ffmpegText = describeFfmpeg(ffmpeg, await ffmpegVersion(ffmpeg.path));

  const engine = await createFaceEngine(config.engine);
  const people = await demoPeople(engine);
  const { gallery } = await enrollPeople(
    engine,
    await Promise.all(
      people.map(async (p) => ({ person: p.name, file: `${p.name}.png`, bytes: await faceCrop(p, 1.6) })),
    ),
  );
  await mkdir(benchDir, { recursive: true });
  await writeFile(galleryPath, serializeGallery(gallery));
  const enrolled = people.filter((p) => gallery.people.some((g) => g.name === p.name));
  const expected = new Map<string, string>();
  const specs = Array.from({ length: n }, (_, i) => {
    const person = enrolled[i % enrolled.length];
    const key = `test_${String(i).padStart(n > 100 ? 3 : 2, '0')}.mp4`;
    expected.set(key, person.name);
    return { key, person, height: heights[i % heights.length], factor: 2.2 + 0.4 * ((i >> 2) % 3) };
  });
  const spec = JSON.stringify(['v3', ...specs.map((s) => [s.key, s.person.name, s.height, s.factor])]);
  if (
    !existsSync(path.join(videosDir, 'spec.json')) ||
    (await readFile(path.join(videosDir, 'spec.json'), 'utf8')) !== spec
  ) {
    await rm(videosDir, { recursive: true, force: true });
    await mkdir(path.join(videosDir, 'stills'), { recursive: true });
    const t0 = performance.now();
    await mapLimit(specs, os.cpus().length, async (s) => {
      const still = path.join(videosDir, 'stills', `${s.key}.png`);
      const width = Math.round((s.height * 16) / 9 / 2) * 2;
      await writeFile(
        still,
        await personFrame(s.person, people, { factor: s.factor, width, height: s.height }),
      );
      await stillToVideo(ffmpeg.path, still, path.join(videosDir, s.key));
    });
    await rm(path.join(videosDir, 'stills'), { recursive: true, force: true });
    await writeFile(path.join(videosDir, 'spec.json'), spec);
    console.error(`made ${n} videos in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return {
    benchDir,
    videosDir,
    galleryPath,
    videos: specs.map((s) => path.join(videosDir, s.key)),
    expected,
    specs: specs.map((s) => ({ key: s.key, height: s.height })),
    enrolledCount: enrolled.length,
    engine,
    gallery,
    ffmpeg,
    ffmpegText,
  };
}
