/**
 * Issue 25, one-off: the loop bench/candidates-describe.ts (TFJS) and
 * bench/candidates-describe-onnx.ts (onnxruntime) share: every chip of a cached crop
 * (bench/candidates-extract.ts) through a net in batches, optionally averaged with its mirror
 * image, written as `<cacheDir>/<name>_<crop><suffix>[_mirror].f32` (rows x D float32).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseCrop } from './candidates-extract.js';

/** Chips mirrored left-right (NHWC uint8). */
function mirrorChips(chips: Uint8Array, count: number, size: number): Uint8Array {
  const out = new Uint8Array(chips.length);
  for (let n = 0; n < count; n++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const s = ((n * size + y) * size + x) * 3;
        const d = ((n * size + y) * size + (size - 1 - x)) * 3;
        out[d] = chips[s];
        out[d + 1] = chips[s + 1];
        out[d + 2] = chips[s + 2];
      }
  return out;
}

/** Runs `count` chips of `size` pixels (uint8 NHWC RGB) through a net: count x D values. */
type ChipNet = (chips: Uint8Array, count: number, size: number) => Float32Array | Promise<Float32Array>;

/** Describes every chip of `<cacheDir>/<crop>.u8`, writes the rows, prints the time per face. */
export async function describeCachedChips(opts: {
  cacheDir: string;
  crop: string;
  name: string;
  /** After the crop in the file name (the TFJS script's input convention). */
  suffix?: string;
  net: ChipNet;
  mirror: boolean;
  batch: number;
  runtime: string;
}): Promise<void> {
  const { cacheDir, crop, net, mirror, batch } = opts;
  const { size } = parseCrop(crop);
  const stride = size * size * 3;
  const all = new Uint8Array(readFileSync(path.join(cacheDir, `${crop}.u8`)));
  const rows = all.length / stride;
  let dim = 0;
  let result = new Float32Array(0);
  let ms = 0;
  for (let r = 0; r < rows; r += batch) {
    const count = Math.min(batch, rows - r);
    const chips = all.slice(r * stride, (r + count) * stride);
    const t = performance.now();
    const d = Float32Array.from(await net(chips, count, size));
    ms += performance.now() - t;
    if (mirror) {
      const m = await net(mirrorChips(chips, count, size), count, size);
      for (let i = 0; i < d.length; i++) d[i] = (d[i] + m[i]) / 2;
    }
    if (!dim) {
      dim = d.length / count;
      result = new Float32Array(rows * dim);
    }
    result.set(d, r * dim);
    if ((r / batch) % 50 === 0) process.stderr.write(`  ${r + count}/${rows}\n`);
  }
  const out = path.join(cacheDir, `${opts.name}_${crop}${opts.suffix ?? ''}${mirror ? '_mirror' : ''}.f32`);
  writeFileSync(out, Buffer.from(result.buffer));
  console.log(
    `${out}: ${rows} x ${dim}; ${(ms / rows).toFixed(1)} ms a face (${opts.runtime}, 1 thread, batches of ${batch})`,
  );
}
