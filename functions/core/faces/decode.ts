/**
 * Image bytes -> oriented RGB pixels. sharp (libvips) does the decoding; this module adds the
 * checks that make bad input a clear `ImageDecodeError` instead of a crash or a huge allocation.
 */
import sharp, { type Metadata } from 'sharp';
import { DEFAULT_MAX_IMAGE_MEGAPIXELS } from '../facts.js';
import type { RgbImage } from './image.js';

/** Thrown for bytes that are not a usable image. Bad input: never worth a retry. */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

interface DecodeLimits {
  /** Refuse images with more pixels than this (decompression bombs). */
  maxInputPixels: number;
  /** Larger images are shrunk on load so that their longer side is at most this. */
  maxWorkingSide: number;
}

const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxInputPixels: DEFAULT_MAX_IMAGE_MEGAPIXELS * 1e6,
  maxWorkingSide: 2560,
};

const FORMATS = new Set(['jpeg', 'png', 'webp']);

export interface DecodedImage {
  /** Pixels to work on, possibly shrunk (see `scale`). */
  image: RgbImage;
  /** working pixels per original pixel (<= 1). */
  scale: number;
  /** Size of the oriented original. */
  width: number;
  height: number;
}

export async function decodeImage(bytes: Uint8Array, limits = DEFAULT_DECODE_LIMITS): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError('empty file (0 bytes): not an image');
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageDecodeError(
      `not a readable image (JPEG, PNG or WebP expected): ${(err as Error).message}`,
    );
  }
  if (!meta.format || !FORMATS.has(meta.format)) {
    throw new ImageDecodeError(
      `unsupported image format '${meta.format ?? 'unknown'}' (JPEG, PNG or WebP expected)`,
    );
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > limits.maxInputPixels) {
    throw new ImageDecodeError(
      `image too large: ${meta.width}x${meta.height} (${(pixels / 1e6).toFixed(1)} MP) exceeds the ${(limits.maxInputPixels / 1e6).toFixed(0)} MP limit`,
    );
  }
  // EXIF orientations 5-8 swap width and height.
  const swap = (meta.orientation ?? 1) >= 5;
  const width = swap ? meta.height! : meta.width!;
  const height = swap ? meta.width! : meta.height!;
  const scale = Math.min(1, limits.maxWorkingSide / Math.max(width, height));
  try {
    let pipeline = sharp(bytes, { limitInputPixels: limits.maxInputPixels, failOn: 'error' });
    // Each step only where the image needs it: on a plain sRGB JPEG video frame the no-op
    // steps still cost up to ~1 ms of a ~8 ms decode. An embedded profile keeps the conversion
    // (test/functions/core/faces/decode.test.ts checks every kind against the unconditional steps).
    if ((meta.orientation ?? 1) > 1) pipeline = pipeline.rotate();
    if (scale < 1) {
      pipeline = pipeline.resize(Math.round(width * scale), Math.round(height * scale), { fit: 'fill' });
    }
    if (meta.hasAlpha) pipeline = pipeline.removeAlpha();
    if (meta.space !== 'srgb' || meta.channels !== 3 || meta.icc) pipeline = pipeline.toColourspace('srgb');
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels after conversion`);
    return {
      image: {
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
        width: info.width,
        height: info.height,
      },
      scale: info.width / width,
      width,
      height,
    };
  } catch (err) {
    throw new ImageDecodeError(
      `image could not be decoded (truncated or corrupt?): ${(err as Error).message}`,
    );
  }
}
