/** Crop-and-resize of raw RGB pixels through libvips (area-averaging when shrinking). */
import sharp from 'sharp';
import type { Region, RgbImage } from './image.js';

/** Cut `region` (clamped to the image) out of `image` and scale it to `width` x `height`. */
export async function cropResize(
  image: RgbImage,
  region: Region,
  width: number,
  height: number,
): Promise<RgbImage> {
  const left = Math.max(0, Math.floor(region.x));
  const top = Math.max(0, Math.floor(region.y));
  const w = Math.min(image.width - left, Math.ceil(region.width));
  const h = Math.min(image.height - top, Math.ceil(region.height));
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  if (left !== 0 || top !== 0 || w !== image.width || h !== image.height) {
    pipeline = pipeline.extract({ left, top, width: w, height: h });
  }
  const data = await pipeline.resize(width, height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}
