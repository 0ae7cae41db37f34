/**
 * Reader for the tfjs "weights manifest + .bin shards" format that face-api ships in its
 * model/ folder. Returns every weight dequantized to float32, keyed by its tfjs name.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface Weight {
  name: string;
  /** tfjs shape, e.g. HWIO [kh,kw,cin,cout] for a conv filter. */
  shape: number[];
  data: Float32Array;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

const QUANTIZED_BYTES: Record<string, number> = { uint8: 1, uint16: 2 };

/**
 * Reads `<dir>/<base>-weights_manifest.json` and its shards. Quantized weights are restored
 * the way tfjs does it (`q * scale + min`, computed in double then stored as float32), so the
 * converted graph sees bit-identical weights to face-api running on tfjs.
 */
export function readTfjsWeights(dir: string, base: string): Map<string, Weight> {
  const manifestFile = path.join(dir, `${base}-weights_manifest.json`);
  const groups = JSON.parse(readFileSync(manifestFile, 'utf8')) as ManifestGroup[];
  const weights = new Map<string, Weight>();

  for (const group of groups) {
    // A group's weights are laid out back to back across the concatenation of its shards.
    const buf = Buffer.concat(group.paths.map((p) => readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const entry of group.weights) {
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(count);
      const q = entry.quantization;
      if (q) {
        const width = QUANTIZED_BYTES[q.dtype];
        if (!width || q.scale === undefined || q.min === undefined) {
          throw new Error(`${manifestFile}: ${entry.name}: unsupported quantization ${JSON.stringify(q)}`);
        }
        for (let i = 0; i < count; i++) {
          const v = width === 1 ? buf[offset + i] : buf.readUInt16LE(offset + 2 * i);
          data[i] = v * q.scale + q.min;
        }
        offset += count * width;
      } else if (entry.dtype === 'float32') {
        for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(offset + 4 * i);
        offset += count * 4;
      } else {
        throw new Error(`${manifestFile}: ${entry.name}: unsupported dtype ${entry.dtype}`);
      }
      if (offset > buf.length) throw new Error(`${manifestFile}: shards too short at ${entry.name}`);
      weights.set(entry.name, { name: entry.name, shape: entry.shape, data });
    }
    if (offset !== buf.length) {
      throw new Error(`${manifestFile}: ${buf.length - offset} unread bytes in ${group.paths.join(',')}`);
    }
  }
  return weights;
}

/**
 * Hands out weights by name with a shape check, and can assert at the end that every weight
 * was used, so a wrong guess about the architecture or layout fails loudly at build time.
 */
export class WeightTaker {
  private readonly unused: Set<string>;

  constructor(private readonly weights: Map<string, Weight>) {
    this.unused = new Set(weights.keys());
  }

  take(name: string, shape: number[]): Weight {
    const w = this.weights.get(name);
    if (!w) throw new Error(`missing weight ${name}`);
    if (w.shape.join('x') !== shape.join('x')) {
      throw new Error(`weight ${name} has shape [${w.shape}], expected [${shape}]`);
    }
    this.unused.delete(name);
    return w;
  }

  assertAllUsed(): void {
    if (this.unused.size) throw new Error(`unused weights: ${[...this.unused].join(', ')}`);
  }
}
