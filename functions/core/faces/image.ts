/** A decoded image kept as interleaved 8-bit RGB, the one pixel format the engine works on. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Mirror an RGB image left to right (for the mirrored-descriptor average). */
export function flipHorizontal(image: RgbImage): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const src = row + x * 3;
      const dst = row + (width - 1 - x) * 3;
      out[dst] = data[src];
      out[dst + 1] = data[src + 1];
      out[dst + 2] = data[src + 2];
    }
  }
  return { data: out, width, height };
}

/** Same-size images as one NHWC batch of 8-bit RGB, the input every net takes (models/README.md). */
export function nhwcBatch(images: RgbImage[]): Uint8Array {
  const stride = images[0]?.data.length ?? 0;
  const batch = new Uint8Array(images.length * stride);
  images.forEach((image, i) => batch.set(image.data, i * stride));
  return batch;
}
