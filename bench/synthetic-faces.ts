/** Seeded random unit vectors: stand-in face descriptors for benchmarks and tests of search
 * and calibration (directions uniform on the sphere; no face data). */

/** `count` unit vectors of `dim` values, row-major, the same for the same seed. */
export function randomUnitRows(count: number, dim: number, seed: number): Float32Array {
  let s = seed >>> 0;
  // mulberry32
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float32Array(count * dim);
  for (let r = 0; r < count; r++) {
    let n = 0;
    for (let j = 0; j < dim; j++) {
      const g = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      out[r * dim + j] = g;
      n += g * g;
    }
    n = Math.sqrt(n);
    for (let j = 0; j < dim; j++) out[r * dim + j] /= n;
  }
  return out;
}
