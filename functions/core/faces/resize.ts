/** Resizing of raw RGB pixels through libvips (area-averaging when shrinking). */
import sharp from 'sharp';
import type { RgbImage } from './image.js';

/** Scale `image` to `width` x `height` (the detector passes' inputs). */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}
