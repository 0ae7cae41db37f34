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

/** Copy RGB bytes into a float32 NHWC batch slot, the layout our converted nets take. */
export function writeNhwc(image: RgbImage, target: Float32Array, offset: number): void {
  const { data } = image;
  for (let i = 0; i < data.length; i++) target[offset + i] = data[i];
}
