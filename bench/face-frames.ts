/**
 * Synthetic but realistic benchmark frames: a real face photo placed on a textured background
 * at video resolution, the situation of the pipeline's frames (one person in a video frame).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The shared labelled data set, present on the team's machines but not in a user's clone. */
export const SHARED_FACES = path.resolve(repoRoot, '..', 'shared', 'data', 'faces');
export const hasSharedFaces = () => existsSync(SHARED_FACES);
/** Group photos that @vladmandic/face-api ships in its npm package (always installed). */
export const DEMO_PHOTOS = [1, 2, 3, 4, 5, 6].map((i) =>
  path.join(repoRoot, 'node_modules', '@vladmandic', 'face-api', 'demo', `sample${i}.jpg`),
);

/** A deterministic textured background (no faces): soft gradient plus coloured blobs. */
export async function background(width: number, height: number, seed: number): Promise<Buffer> {
  const hue = (seed * 47) % 360;
  const blobs = Array.from({ length: 6 }, (_, i) => {
    const x = ((seed * 131 + i * 397) % 100) / 100;
    const y = ((seed * 71 + i * 211) % 100) / 100;
    return `<circle cx="${x * width}" cy="${y * height}" r="${height * (0.1 + (i % 3) * 0.08)}" fill="hsl(${(hue + i * 40) % 360},35%,${40 + i * 6}%)" opacity="0.5"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue},25%,70%)"/><stop offset="1" stop-color="hsl(${(hue + 60) % 360},25%,35%)"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>${blobs}</svg>`;
  return sharp(Buffer.from(svg)).blur(8).png().toBuffer();
}

export interface FaceFrameOptions {
  width: number;
  height: number;
  /** Height of the pasted face photo, in frame pixels. */
  faceHeight: number;
  /** Varies the background and the position. */
  seed: number;
}

/** Paste `faceImage` (a photo whose main content is one face) into a frame; returns a JPEG. */
export async function composeFaceFrame(
  faceImage: string | Buffer,
  options: FaceFrameOptions,
): Promise<Buffer> {
  const { width, height, faceHeight, seed } = options;
  const face = await sharp(faceImage)
    .rotate()
    .resize({ height: faceHeight })
    .removeAlpha()
    .toColourspace('srgb')
    .png()
    .toBuffer();
  const meta = await sharp(face).metadata();
  const fw = Math.min(meta.width!, width);
  const left = Math.round((((seed * 37) % 60) / 100) * (width - fw) + 0.2 * (width - fw));
  const top = Math.round((((seed * 53) % 50) / 100) * (height - faceHeight) + 0.25 * (height - faceHeight));
  return sharp(await background(width, height, seed))
    .composite([{ input: face, left, top }])
    .jpeg({ quality: 90 })
    .toBuffer();
}
