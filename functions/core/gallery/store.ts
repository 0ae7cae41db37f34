/**
 * The binary gallery store: a gallery of any size in one file, read without parsing text.
 *
 *   bytes 0-7    "FRGSTORE"
 *   bytes 8-11   format version (uint32 LE)
 *   bytes 12-15  header length H (uint32 LE)
 *   bytes 16-    header: UTF-8 JSON (model id, sizes, the value type, the gallery id, where each
 *                section starts, the calibration's summary), then zero padding
 *   sections     each at a multiple of 64 bytes from the start of the file:
 *                names       UTF-8 JSON array of the people's names (the small index)
 *                counts      uint32 per person: how many photos (their rows follow person by person)
 *                images      photos x descriptorSize values, float32 or float16 (LE)
 *                imageNorms  float32 per photo: |row|^2 of the values as stored (search needs them;
 *                            carried so a cold start makes no pass over 100,000 rows for them)
 *                cohort      cohort faces x descriptorSize values, same type
 *                provenance  UTF-8 JSON: per photo [file, sha256, recipe|null] (read only on demand)
 *                calibration the stranger sample (functions/core/faces/open-set.ts): uint32 and
 *                            float32 arrays, so a 100,000-person gallery is not re-measured at
 *                            every cold start
 *                coarse      (galleries of COARSE_MIN_ROWS photos and more) the photos' 8-bit copy
 *                            for the search's coarse pass (functions/core/faces/quantized-rows.ts):
 *                            codes int8 [values x photos], and float32 scale and rounding error
 *                            per photo; optional: a store without it (older, or smaller) gets it
 *                            made at load
 *
 * One file rather than an index beside a matrix: one S3 object, one ETag, so a function never
 * reads an index of one push with the matrix of another. float16 halves what is downloaded
 * (100,000 people: 102 MB instead of 205 MB) for a decode at load; its rounding (< 5e-4 of a
 * value) moves distances by ~1e-5. Pure: bytes in, bytes out.
 */
import type { DescriptorMetric } from '../faces/describe.js';
import { COARSE_MIN_ROWS, quantizeRows, rememberQuantizedRows } from '../faces/quantized-rows.js';

const STORE_MAGIC = 'FRGSTORE';
const STORE_VERSION = 1;
export type StoreDtype = 'float32' | 'float16';
export const STORE_DTYPES: readonly StoreDtype[] = ['float32', 'float16'];

/** Where a photo came from: what `facerec enroll` needs to skip it next time. */
export interface ImageProvenance {
  file: string;
  sha256: string;
  recipe?: string;
}

/**
 * How close the gallery's own photos come to other people, measured as a stranger's search
 * would be (functions/core/faces/open-set.ts computes it; a store keeps it). Rows index the
 * gallery's photos, people its names.
 */
export interface StrangerSample {
  metric: DescriptorMetric;
  /** People in the gallery it was measured on. */
  people: number;
  /** Photos that could stand in for strangers (every photo, when 2+ people are enrolled). */
  photos: number;
  /** The photos searched (all, or an even sample of a large gallery), each among the other people. */
  photoRows: Uint32Array;
  nearestPerson: Uint32Array;
  distance: Float32Array;
  /** Photos of people with 2+ photos: distance to the template of their own other photos. */
  ownRows: Uint32Array;
  ownDistance: Float32Array;
}

/** A gallery as search needs it: names and typed-array matrices. */
export interface CompiledGallery {
  readonly kind: 'compiled';
  readonly modelId: string;
  readonly descriptorSize: number;
  /** galleryId of the same content (recorded with results). */
  readonly id: string;
  readonly names: readonly string[];
  /** Photos per person, in `names` order; `images` holds their rows person by person. */
  readonly counts: Uint32Array;
  readonly images: Float32Array;
  /** |row|^2 of each of `images`' rows as held (a store carries them), if known. */
  readonly imageNorms?: Float32Array;
  readonly cohort: Float32Array;
  readonly cohortSource?: string;
  /** Each photo's provenance, person by person (a store parses it on first call). */
  provenance(): readonly ImageProvenance[];
  /** The stranger sample stored with the gallery (stores written by facerec), if any. */
  readonly strangerSample?: StrangerSample;
  /** How a store holds its values (undefined: built in memory, e.g. from a JSON gallery). */
  readonly storedAs?: StoreDtype;
}

/** A file that claims to be a store but is not a readable one. */
export class StoreFormatError extends Error {
  override readonly name = 'StoreFormatError';
}

const ALIGN = 64;
const PREAMBLE = 16;

export function isGalleryStore(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 && Buffer.from(bytes.buffer, bytes.byteOffset, 8).toString('latin1') === STORE_MAGIC
  );
}

// --- float16 (IEEE 754 binary16), round to nearest even ----------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

let halfTable: Float32Array | undefined;
function halfToFloat(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      const v = e === 0 ? m * 2 ** -24 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15);
      halfTable[h] = h & 0x8000 ? -v : v;
    }
  }
  return halfTable;
}

// --- writing -----------------------------------------------------------------------------------

interface Section {
  name: string;
  bytes: Uint8Array;
}

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A matrix as stored, and |row|^2 of each row of the values as stored (float16: after its
 * rounding), so that a reader gets the norms of exactly what it decodes without a pass over the
 * matrix at load. */
function storedMatrix(
  values: Float32Array,
  size: number,
  dtype: StoreDtype,
): { bytes: Uint8Array; norms: Float32Array } {
  const rows = size ? values.length / size : 0;
  const norms = new Float32Array(rows);
  if (dtype === 'float32') {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = r * size; j < (r + 1) * size; j++) s += values[j] * values[j];
      norms[r] = s;
    }
    return { bytes: bytesOf(values), norms };
  }
  const halves = new Uint16Array(values.length);
  const table = halfToFloat();
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = r * size; j < (r + 1) * size; j++) {
      halves[j] = toHalf(values[j]);
      s += table[halves[j]] * table[halves[j]];
    }
    norms[r] = s;
  }
  return { bytes: bytesOf(halves), norms };
}

/** The photos' 8-bit copy, made from the values as a reader will decode them (float16: after its
 * rounding), for galleries large enough to be searched coarse-then-exact. */
function coarseSections(
  images: Uint8Array,
  values: Float32Array,
  size: number,
  dtype: StoreDtype,
): Section[] {
  const rows = size ? values.length / size : 0;
  if (rows < COARSE_MIN_ROWS) return [];
  let stored = values;
  if (dtype === 'float16') {
    const halves = new Uint16Array(images.buffer, images.byteOffset, images.byteLength / 2);
    const table = halfToFloat();
    stored = new Float32Array(halves.length);
    for (let i = 0; i < halves.length; i++) stored[i] = table[halves[i]];
  }
  const q = quantizeRows(stored, rows, size);
  return [
    { name: 'coarse.codes', bytes: bytesOf(q.codes) },
    { name: 'coarse.scale', bytes: bytesOf(q.scale) },
    { name: 'coarse.error', bytes: bytesOf(q.error) },
  ];
}

function sampleSections(s: StrangerSample): Section[] {
  return [
    { name: 'calibration.photoRows', bytes: bytesOf(s.photoRows) },
    { name: 'calibration.nearestPerson', bytes: bytesOf(s.nearestPerson) },
    { name: 'calibration.distance', bytes: bytesOf(s.distance) },
    { name: 'calibration.ownRows', bytes: bytesOf(s.ownRows) },
    { name: 'calibration.ownDistance', bytes: bytesOf(s.ownDistance) },
  ];
}

/** The store's bytes for `g` (with its stranger sample when given). */
export function encodeGalleryStore(
  g: CompiledGallery,
  options: { dtype: StoreDtype; strangerSample?: StrangerSample },
): Uint8Array {
  const sample = options.strangerSample ?? g.strangerSample;
  const provenance = g.provenance().map((p) => [p.file, p.sha256, p.recipe ?? null]);
  const images = storedMatrix(g.images, g.descriptorSize, options.dtype);
  const sections: Section[] = [
    { name: 'names', bytes: utf8(JSON.stringify(g.names)) },
    { name: 'counts', bytes: bytesOf(g.counts) },
    { name: 'images', bytes: images.bytes },
    { name: 'imageNorms', bytes: bytesOf(images.norms) },
    { name: 'cohort', bytes: storedMatrix(g.cohort, g.descriptorSize, options.dtype).bytes },
    { name: 'provenance', bytes: utf8(JSON.stringify(provenance)) },
    ...(sample ? sampleSections(sample) : []),
    ...coarseSections(images.bytes, g.images, g.descriptorSize, options.dtype),
  ];
  const header = (places: Record<string, [number, number]>) =>
    utf8(
      JSON.stringify({
        format: 'facerec-gallery-store',
        modelId: g.modelId,
        descriptorSize: g.descriptorSize,
        dtype: options.dtype,
        id: g.id,
        people: g.names.length,
        images: g.images.length / g.descriptorSize,
        cohort: g.cohort.length / g.descriptorSize,
        cohortSource: g.cohortSource ?? null,
        calibration: sample ? { metric: sample.metric, people: sample.people, photos: sample.photos } : null,
        sections: places,
      }),
    );
  const up = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
  // Offsets depend on the header's length, which depends on the offsets: lay out twice.
  let places: Record<string, [number, number]> = {};
  let start = 0;
  for (let pass = 0; pass < 3; pass++) {
    start = up(PREAMBLE + header(places).length + 16);
    places = {};
    let at = start;
    for (const s of sections) {
      places[s.name] = [at, s.bytes.length];
      at = up(at + s.bytes.length);
    }
  }
  const head = header(places);
  if (PREAMBLE + head.length > start) throw new Error('gallery store header outgrew its room');
  const last = sections[sections.length - 1];
  const out = new Uint8Array(places[last.name][0] + last.bytes.length);
  out.set(utf8(STORE_MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, STORE_VERSION, true);
  view.setUint32(12, head.length, true);
  out.set(head, PREAMBLE);
  for (const s of sections) out.set(s.bytes, places[s.name][0]);
  return out;
}

// --- reading -----------------------------------------------------------------------------------

interface Header {
  format: string;
  modelId: string;
  descriptorSize: number;
  dtype: StoreDtype;
  id: string;
  people: number;
  images: number;
  cohort: number;
  cohortSource: string | null;
  calibration: { metric: DescriptorMetric; people: number; photos: number } | null;
  sections: Record<string, [number, number]>;
}

/** Reads a store's bytes: the matrices as views (float32, aligned) or decoded (float16). */
export function decodeGalleryStore(bytes: Uint8Array, source: string): CompiledGallery {
  const fail = (what: string): never => {
    throw new StoreFormatError(`${source}: not a readable gallery store (${what})`);
  };
  if (!isGalleryStore(bytes)) fail('no FRGSTORE mark');
  if (bytes.length < PREAMBLE) fail('truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== STORE_VERSION)
    fail(`format version ${version}; this facerec reads version ${STORE_VERSION}: update facerec`);
  const headLength = view.getUint32(12, true);
  if (PREAMBLE + headLength > bytes.length) fail('truncated header');
  let h: Header;
  try {
    h = JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset + PREAMBLE, headLength).toString('utf8'),
    ) as Header;
  } catch {
    return fail('header is not JSON');
  }
  if (h.format !== 'facerec-gallery-store' || !STORE_DTYPES.includes(h.dtype)) fail('unknown header');
  const size = h.descriptorSize;
  // Every section inside the file, the lazily read ones too: a cut download fails here, at load.
  for (const [name, [at, length]] of Object.entries(h.sections ?? {}))
    if (!(at >= 0 && length >= 0 && at + length <= bytes.length))
      fail(`${name} section runs past the end: the file is truncated`);
  const section = (name: string, required = true): Uint8Array | undefined => {
    const place = h.sections[name];
    if (!place) return required ? fail(`no ${name} section`) : undefined;
    const [at, length] = place;
    if (at + length > bytes.length) fail(`${name} section runs past the end: the file is truncated`);
    return bytes.subarray(at, at + length);
  };
  /** A section as typed values: a view of the file's bytes for a float32 matrix (no copy),
   * a copy for the small sections, so that a float16 store's bytes can be let go once decoded. */
  const typed = <T>(
    name: string,
    make: (buf: ArrayBuffer, off: number, n: number) => T,
    width: number,
    view = false,
  ) => {
    const s = section(name)!;
    if (s.length % width) fail(`${name} section has a partial value`);
    // Views need aligned offsets; a copy otherwise (a Buffer from a pool may start anywhere).
    const own = view && s.byteOffset % width === 0 ? s : s.slice();
    return make(own.buffer as ArrayBuffer, own.byteOffset, own.length / width);
  };
  const u32s = (name: string) => typed(name, (b, o, n) => new Uint32Array(b, o, n), 4);
  const f32s = (name: string, view = false) => typed(name, (b, o, n) => new Float32Array(b, o, n), 4, view);
  const matrix = (name: string, rows: number) => {
    if (h.dtype === 'float32') {
      const m = f32s(name, true);
      if (m.length !== rows * size) fail(`${name}: ${m.length} values, expected ${rows} x ${size}`);
      return m;
    }
    const halves = typed(name, (b, o, n) => new Uint16Array(b, o, n), 2, true);
    if (halves.length !== rows * size) fail(`${name}: ${halves.length} values, expected ${rows} x ${size}`);
    const table = halfToFloat();
    const out = new Float32Array(halves.length);
    for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]];
    return out;
  };
  const json = (name: string): unknown => {
    try {
      return JSON.parse(Buffer.from(section(name)!).toString('utf8'));
    } catch (err) {
      if (err instanceof StoreFormatError) throw err;
      return fail(`${name} section is not JSON`);
    }
  };

  const names = json('names');
  if (!Array.isArray(names) || names.length !== h.people || !names.every((n) => typeof n === 'string' && n))
    fail(`names: expected ${h.people} names`);
  const counts = u32s('counts');
  if (counts.length !== h.people) fail(`counts: ${counts.length} people, expected ${h.people}`);
  let photos = 0;
  for (const [i, c] of counts.entries()) {
    // A person with no photo would be matched at a made-up distance (every face near no one).
    if (c === 0) fail(`counts: ${String((names as string[])[i])} has no photo`);
    photos += c;
  }
  if (photos !== h.images) fail(`counts add up to ${photos} photos, expected ${h.images}`);
  const images = matrix('images', h.images);
  const imageNorms = h.sections.imageNorms ? f32s('imageNorms') : undefined;
  if (imageNorms && imageNorms.length !== h.images)
    fail(`imageNorms: ${imageNorms.length} rows, expected ${h.images}`);
  if (h.sections['coarse.codes']) {
    // A view for float32 (the file is kept for the matrix anyway), a copy for float16.
    const codes = typed('coarse.codes', (b, o, n) => new Int8Array(b, o, n), 1, h.dtype === 'float32');
    const scale = f32s('coarse.scale');
    const error = f32s('coarse.error');
    if (codes.length !== h.images * size || scale.length !== h.images || error.length !== h.images)
      fail(`coarse sections: expected ${h.images} photos x ${size} values`);
    rememberQuantizedRows(images, { rows: h.images, size, scale, error, codes });
  }
  const cohort = matrix('cohort', h.cohort);
  let provenance: ImageProvenance[] | undefined;
  // Parsed on demand (only enroll and listings need it): its bytes are kept, the rest let go.
  const provenanceBytes = Buffer.from(section('provenance')!);
  const c = h.calibration;
  let strangerSample: StrangerSample | undefined;
  if (c) {
    strangerSample = {
      metric: c.metric,
      people: c.people,
      photos: c.photos,
      photoRows: u32s('calibration.photoRows'),
      nearestPerson: u32s('calibration.nearestPerson'),
      distance: f32s('calibration.distance'),
      ownRows: u32s('calibration.ownRows'),
      ownDistance: f32s('calibration.ownDistance'),
    };
    const s = strangerSample;
    if (s.nearestPerson.length !== s.photoRows.length || s.distance.length !== s.photoRows.length)
      fail('calibration arrays differ in length');
    // The threshold is chosen from these: one NaN would leave every face Unknown.
    if (!s.distance.every(Number.isFinite) || !s.ownDistance.every(Number.isFinite))
      fail('calibration: a distance is not a number');
  }
  return {
    kind: 'compiled',
    modelId: h.modelId,
    descriptorSize: size,
    id: h.id,
    names: names as string[],
    counts,
    images,
    imageNorms,
    cohort,
    cohortSource: h.cohortSource ?? undefined,
    strangerSample,
    storedAs: h.dtype,
    provenance() {
      if (!provenance) {
        let rows: unknown;
        try {
          rows = JSON.parse(provenanceBytes.toString('utf8'));
        } catch {
          return fail('provenance section is not JSON');
        }
        if (!Array.isArray(rows) || rows.length !== h.images) fail(`provenance: expected ${h.images} photos`);
        provenance = (rows as unknown[][]).map(([file, sha256, recipe]) => ({
          file: String(file),
          sha256: String(sha256),
          ...(typeof recipe === 'string' ? { recipe } : {}),
        }));
      }
      return provenance;
    },
  };
}
