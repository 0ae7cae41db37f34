/**
 * Material for the console tests: a gallery of two people from one of @vladmandic/face-api's
 * group photos (one with an ordinary name, one whose name is markup: what a hostile result
 * holds), their enrollment photos in a people folder, and a short video of the whole photo.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { around } from '#cli/lib/demo-data.js';
import { stillToVideo } from '#cli/lib/still-video.js';
import { loadConfig } from '#functions/config.js';
import { enrollPeople, type EnrollImage } from '#functions/core/gallery/enroll.js';
import { createFaceEngine } from '#functions/core/faces/engine.js';
import { serializeGallery } from '#functions/core/gallery/write.js';
import { ffmpegPath, SAMPLE_IMAGES } from '#test/support/videos.js';

export const HOSTILE_NAME = `<img src=x onerror=alert(1)>"><script>alert(2)</script>`;
export const HOSTILE_KEY = `"><img src=x onerror=alert(3)>.mp4`;
export const PLAIN_NAME = 'Ada Lovelace';

export interface ConsoleFixture {
  galleryPath: string;
  peopleDir: string;
  video: string;
}

export async function consoleFixture(dir: string): Promise<ConsoleFixture> {
  const engine = await createFaceEngine(loadConfig().engine);
  const photo = SAMPLE_IMAGES[2];
  const bytes = await readFile(photo);
  const analysis = await engine.analyzeFaces(bytes);
  const faces = [...analysis.faces].sort((a, b) => a.box.x - b.box.x);
  if (faces.length < 2) throw new Error(`${photo}: expected a group photo`);
  const peopleDir = path.join(dir, 'people');
  const images: EnrollImage[] = [];
  for (const [name, face] of [
    [PLAIN_NAME, faces[0]],
    [HOSTILE_NAME, faces[1]],
  ] as const) {
    const crop = await sharp(bytes)
      .rotate()
      .extract(around(face.box, 1.6, analysis.width, analysis.height))
      .jpeg({ quality: 92 })
      .toBuffer();
    // The folder holds the photo under a plain name; the person's name is data only.
    const rel = `person-${images.length + 1}/face.jpg`;
    await mkdir(path.join(peopleDir, path.dirname(rel)), { recursive: true });
    await writeFile(path.join(peopleDir, rel), crop);
    images.push({ person: name, file: rel, bytes: crop });
  }
  const { gallery } = await enrollPeople(engine, images);
  const galleryPath = path.join(dir, 'gallery.json');
  await writeFile(galleryPath, serializeGallery(gallery));
  const video = await stillToVideo(ffmpegPath(), photo, path.join(dir, 'group.mp4'), {
    filter: 'scale=-2:720,pad=ceil(iw/2)*2:ceil(ih/2)*2',
    seconds: 1,
    preset: 'ultrafast',
  });
  return { galleryPath, peopleDir, video };
}
