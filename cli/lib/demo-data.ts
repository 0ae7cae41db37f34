/**
 * Demo material from images that an npm dependency ships: @vladmandic/face-api's six demo photos
 * (groups of 3 to 5 people). Each face found becomes a "person" named after its photo and its
 * position from left to right (sample3-face2); enrollment uses a crop of the face, the person's
 * video a wider, differently framed crop with a slow zoom, encoded as H.264.
 *
 * Videos: one per enrolled person picked (expected: that name), a person left out of the gallery
 * (expected: Unknown), a whole group photo (expected: one of its people, all of them reported in
 * the JSON detail), a test pattern (expected: No face) and a truncated upload (expected: a failed
 * execution with an error record).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { enrollPeople, type EnrollImage } from '../../functions/core/gallery/enroll.js';
import { euclideanDistance } from '../../functions/core/faces/describe.js';
import type { FaceEngine } from '../../functions/core/faces/engine.js';
import type { Box } from '../../functions/core/faces/types.js';
import { type Gallery } from '../../functions/core/gallery/read.js';
import { serializeGallery } from '../../functions/core/gallery/write.js';
import { NO_FACE, UNKNOWN } from '../../functions/core/vote.js';
import { patternToVideo, stillToVideo } from './still-video.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEMO_PHOTOS_DIR = path.join(repoRoot, 'node_modules/@vladmandic/face-api/demo');
export const demoPhotos = () => [1, 2, 3, 4, 5, 6].map((i) => path.join(DEMO_PHOTOS_DIR, `sample${i}.jpg`));

interface Expectation {
  /** What the video shows. */
  about: string;
  /** Acceptable names; empty when the execution is expected to fail. */
  names: string[];
  fails?: boolean;
}

export interface DemoData {
  dir: string;
  peopleDir: string;
  galleryPath: string;
  videosDir: string;
  gallery: Gallery;
  /** Video file name -> what should come out. */
  expected: Record<string, Expectation>;
}

export interface Person {
  name: string;
  photo: string;
  box: Box;
  width: number;
  height: number;
  /** The face's descriptor in its photo. */
  descriptor: Float32Array;
}

/** A box grown by `factor` around its centre, squared up, inside the image. */
export function around(box: Box, factor: number, width: number, height: number, aspect = 1) {
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  let h = Math.max(box.width, box.height) * factor;
  let w = h * aspect;
  w = Math.min(w, width);
  h = Math.min(h, height);
  const left = Math.round(Math.min(Math.max(0, cx - w / 2), width - w));
  const top = Math.round(Math.min(Math.max(0, cy - h / 2), height - h));
  return { left, top, width: Math.floor(w), height: Math.floor(h) };
}

/** Everyone in the demo photos, named `sample<photo>-face<n>` from left to right. */
export async function demoPeople(engine: FaceEngine): Promise<Person[]> {
  const people: Person[] = [];
  for (const [i, photo] of demoPhotos().entries()) {
    if (!existsSync(photo))
      throw new Error(`${photo} is missing: is @vladmandic/face-api installed (npm ci)?`);
    const analysis = await engine.analyzeFaces(await readFile(photo));
    const faces = [...analysis.faces].sort((a, b) => a.box.x - b.box.x);
    faces.forEach((f, j) =>
      people.push({
        name: `sample${i + 1}-face${j + 1}`,
        photo,
        box: f.box,
        width: analysis.width,
        height: analysis.height,
        descriptor: f.descriptor,
      }),
    );
  }
  return people;
}

/**
 * A video frame of one person: a square crop around their face (`factor` x the face box, at most
 * `maxScale` x the photo's own resolution, so the face stays sharp), other people's faces in the
 * crop blacked out, centred on a `width` x `height` canvas. PNG bytes.
 */
export async function personFrame(
  p: Person,
  others: readonly Person[],
  opts: { factor: number; width: number; height: number; maxScale?: number },
): Promise<Buffer> {
  const r = around(p.box, opts.factor, p.width, p.height);
  // The person's own face (with a margin) is never covered.
  const keep = around(p.box, 1.35, p.width, p.height);
  const masks = others
    .filter((o) => o !== p && o.photo === p.photo)
    .map((o) => {
      const m = around(o.box, 1.25, o.width, o.height);
      let left = Math.max(m.left, r.left);
      let top = Math.max(m.top, r.top);
      let right = Math.min(m.left + m.width, r.left + r.width);
      const bottom = Math.min(m.top + m.height, r.top + r.height);
      const overlaps =
        left < keep.left + keep.width &&
        right > keep.left &&
        top < keep.top + keep.height &&
        bottom > keep.top;
      if (overlaps) {
        if (o.box.x < p.box.x) right = Math.min(right, keep.left);
        else left = Math.max(left, keep.left + keep.width);
      }
      top = Math.max(top, r.top);
      return { left: left - r.left, top: top - r.top, width: right - left, height: bottom - top };
    })
    .filter((m) => m.width > 0 && m.height > 0)
    .map((m) => ({
      input: { create: { width: m.width, height: m.height, channels: 3 as const, background: '#000' } },
      left: m.left,
      top: m.top,
    }));
  const crop = await sharp(p.photo).rotate().extract(r).composite(masks).png().toBuffer();
  const side = Math.min(opts.height, Math.round(r.height * (opts.maxScale ?? 1.25)));
  return sharp(crop)
    .resize({ width: side, height: side })
    .extend({
      top: Math.floor((opts.height - side) / 2),
      bottom: Math.ceil((opts.height - side) / 2),
      left: Math.floor((opts.width - side) / 2),
      right: Math.ceil((opts.width - side) / 2),
      background: '#202020',
    })
    .png()
    .toBuffer();
}

/** A crop around a person's face (`factor` x the face box, square), as PNG bytes. */
export async function faceCrop(p: Person, factor: number, side?: number): Promise<Buffer> {
  const r = around(p.box, factor, p.width, p.height);
  const img = sharp(p.photo).rotate().extract(r);
  return (side ? img.resize({ width: side, height: side }) : img).png().toBuffer();
}

/**
 * The candidate whose nearest other person is farthest away. dlib's 0.6 separates most pairs of
 * different people, not all (99.38% on LFW): among the 22 faces of the demo photos the nearest
 * other person is 0.40-0.66 away, and a stranger 0.61 from someone enrolled (sample6-face2)
 * came out as that person or Unknown depending on a few pixels of the detector's box. The
 * demo shows what happens to a stranger, not a coin toss at the threshold.
 */
function farthestFromOthers(candidates: Person[], everyone: Person[]): Person {
  const nearest = (p: Person) =>
    Math.min(...everyone.filter((q) => q !== p).map((q) => euclideanDistance(p.descriptor, q.descriptor)));
  const [best] = candidates.map((p) => ({ p, d: nearest(p) })).sort((a, b) => b.d - a.d);
  if (!best) throw new Error('no face in the demo photos can be the stranger');
  return best.p;
}

export async function buildDemoData(
  engine: FaceEngine,
  ffmpeg: string,
  dir: string,
  log: (line: string) => void = () => undefined,
): Promise<DemoData> {
  await rm(dir, { recursive: true, force: true });
  const peopleDir = path.join(dir, 'people');
  const videosDir = path.join(dir, 'videos');
  const work = path.join(dir, 'work');
  await Promise.all([peopleDir, videosDir, work].map((d) => mkdir(d, { recursive: true })));

  // 1. Everyone in the demo photos.
  const people = await demoPeople(engine);
  log(`found ${people.length} faces in the ${demoPhotos().length} demo photos`);

  // 2. Enrollment crops; the stranger stays out of the gallery.
  const groupPhoto = demoPhotos()[2];
  const pickNames = [1, 2, 3, 4, 5].map((i) => `sample${i}-face1`);
  const stranger = farthestFromOthers(
    people.filter((p) => p.photo !== groupPhoto && !pickNames.includes(p.name)),
    people,
  );
  const enrolled = people.filter((p) => p !== stranger);
  const images: EnrollImage[] = [];
  for (const p of enrolled) {
    const r = around(p.box, 1.6, p.width, p.height);
    const bytes = await sharp(p.photo).rotate().extract(r).jpeg({ quality: 92 }).toBuffer();
    const file = path.join(peopleDir, p.name, 'face.jpg');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, bytes);
    images.push({ person: p.name, file: path.relative(peopleDir, file), bytes });
  }
  const { gallery, report } = await enrollPeople(engine, images);
  const galleryPath = path.join(dir, 'gallery.json');
  await writeFile(galleryPath, serializeGallery(gallery));
  log(`enrolled ${report.enrolled.length} people into ${path.relative(process.cwd(), galleryPath)}`);
  const inGallery = new Set(gallery.people.map((p) => p.name));

  // 3. Videos.
  const expected: Record<string, Expectation> = {};
  const picks = pickNames
    .map((name) => enrolled.find((p) => p.name === name && inGallery.has(p.name)))
    .filter((p): p is Person => !!p);
  const personVideo = async (p: Person, file: string) => {
    // Framed differently from the enrollment crop (wider, scaled, letterboxed to 720p), zooming
    // in slowly, then H.264: the frames are not the enrolled pixels. Other people's faces in
    // the crop are blacked out: the video is about one person.
    const still = path.join(work, `${p.name}.png`);
    const side = 720;
    await writeFile(
      still,
      await personFrame(p, people, { factor: 2.1, width: side, height: side, maxScale: Infinity }),
    );
    await stillToVideo(ffmpeg, still, path.join(videosDir, file), {
      filter: "pad=1280:720:(ow-iw)/2:0,zoompan=z='min(zoom+0.002,1.15)':d=50:s=1280x720:fps=25",
    });
  };
  for (const p of picks) {
    const file = `${p.name}.mp4`;
    await personVideo(p, file);
    expected[file] = { about: `${p.name}, enrolled from another crop of the photo`, names: [p.name] };
  }
  await personVideo(stranger, 'stranger.mp4');
  expected['stranger.mp4'] = { about: `${stranger.name}, not in the gallery`, names: [UNKNOWN] };

  const groupNames = people.filter((p) => p.photo === groupPhoto && inGallery.has(p.name)).map((p) => p.name);
  await stillToVideo(ffmpeg, groupPhoto, path.join(videosDir, 'group.mp4'), { filter: 'scale=-2:1080' });
  expected['group.mp4'] = {
    about: `the whole photo ${path.basename(groupPhoto)}: ${groupNames.length} enrolled people`,
    names: groupNames,
  };

  await patternToVideo(ffmpeg, path.join(videosDir, 'no-face.mp4'), { size: '640x360' });
  expected['no-face.mp4'] = { about: 'a test pattern', names: [NO_FACE] };

  const whole = await readFile(path.join(videosDir, 'group.mp4'));
  await writeFile(path.join(videosDir, 'broken.mp4'), whole.subarray(0, 2048));
  expected['broken.mp4'] = { about: 'an upload cut off after 2 KB', names: [], fails: true };

  await rm(work, { recursive: true, force: true });
  log(`made ${Object.keys(expected).length} videos in ${path.relative(process.cwd(), videosDir)}`);
  return { dir, peopleDir, galleryPath, videosDir, gallery, expected };
}
