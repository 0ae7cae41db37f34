/**
 * Resizing of raw RGB pixels for the detector's passes.
 *
 * A shrink by a whole factor (1280x720 -> 640x360 -> 320x180, 1920x1080 -> 960x540) is a
 * block average in JavaScript (even factors by halving, rounded at each step): faster than
 * sharp, whose per-call cost dominates at these sizes (docs/benchmarks.md, "Speed: history").
 * Every other size (enlarging small images, fractional factors) goes through libvips.
 */
import sharp from 'sharp';
import type { RgbImage } from './image.js';
import { boxShrink } from './warp.js';

/** The whole factor (2 or more) by which `image` shrinks to `width` x `height`, if there is one. */
export function wholeShrinkFactor(
  image: { width: number; height: number },
  width: number,
  height: number,
): number | undefined {
  const factor = image.width / width;
  return Number.isInteger(factor) && factor >= 2 && height * factor === image.height ? factor : undefined;
}

/** Scale `image` to `width` x `height`. */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  const factor = wholeShrinkFactor(image, width, height);
  if (factor) {
    // Even factors by halving first: boxShrink's unrolled 2x2 path is faster than its general
    // one (docs/benchmarks.md, "Speed: history"), and the default passes already
    // take the coarse input from the halved fine one, rounded at each step, as this does.
    let source = image;
    let k = factor;
    for (; k % 2 === 0 && k > 2; k /= 2) source = boxShrink(source, 0, 0, source.width, source.height, 2);
    return boxShrink(source, 0, 0, source.width, source.height, k);
  }
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}
