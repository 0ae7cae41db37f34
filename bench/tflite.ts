/**
 * A reader for TensorFlow Lite model files (the `schema.fbs` flatbuffer, TFL3): tensors with
 * their shapes, types, quantization and constant data, and the operators of the main subgraph
 * with the options the converters need. Read-only, no dependency: a flatbuffer is tables found
 * through vtables of 16-bit field offsets, and only the fields below are read.
 */

/** TensorType in schema.fbs. */
const TENSOR_TYPES = [
  'float32',
  'float16',
  'int32',
  'uint8',
  'int64',
  'string',
  'bool',
  'int16',
  'complex64',
  'int8',
];

/** BuiltinOperator in schema.fbs, the codes up to 101 (later ones print as their number). */
const BUILTIN_OPS = (
  'ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE EMBEDDING_LOOKUP ' +
  'FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D LOCAL_RESPONSE_NORMALIZATION LOGISTIC ' +
  'LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX ' +
  'SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD ' +
  'UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE ' +
  'UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX ' +
  'DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER ' +
  'GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL ' +
  'NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ' +
  'ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE ' +
  'RESIZE_NEAREST_NEIGHBOR LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V'
).split(' ');

/** ActivationFunctionType in schema.fbs. */
const ACTIVATIONS = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];

interface TfliteQuantization {
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: string;
  /** The constant's bytes (weights), or null for an activation. */
  data: Uint8Array | null;
  quantization: TfliteQuantization | null;
}

/** The options of the operators we convert (absent fields at their schema defaults). */
interface TfliteOptions {
  padding?: 'SAME' | 'VALID';
  strideW?: number;
  strideH?: number;
  dilationW?: number;
  dilationH?: number;
  depthMultiplier?: number;
  filterW?: number;
  filterH?: number;
  activation?: string;
  newShape?: number[];
  axis?: number;
  keepDims?: boolean;
  keepNumDims?: boolean;
}

interface TfliteOperator {
  op: string;
  inputs: number[];
  outputs: number[];
  options: TfliteOptions;
}

export interface TfliteModel {
  version: number;
  description: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
}

/** A flatbuffer table: its position and its vtable. */
class Table {
  private readonly vtable: number;
  private readonly vtableSize: number;

  constructor(
    private readonly view: DataView,
    readonly pos: number,
  ) {
    this.vtable = pos - view.getInt32(pos, true);
    this.vtableSize = view.getUint16(this.vtable, true);
  }

  /** The absolute position of field `id`, or 0 when absent. */
  private field(id: number): number {
    const at = 4 + 2 * id;
    if (at >= this.vtableSize) return 0;
    const off = this.view.getUint16(this.vtable + at, true);
    return off ? this.pos + off : 0;
  }

  private deref(id: number): number {
    const p = this.field(id);
    return p ? p + this.view.getUint32(p, true) : 0;
  }

  u8(id: number, fallback = 0): number {
    const p = this.field(id);
    return p ? this.view.getUint8(p) : fallback;
  }

  i32(id: number, fallback = 0): number {
    const p = this.field(id);
    return p ? this.view.getInt32(p, true) : fallback;
  }

  u32(id: number, fallback = 0): number {
    const p = this.field(id);
    return p ? this.view.getUint32(p, true) : fallback;
  }

  string(id: number): string {
    const p = this.deref(id);
    if (!p) return '';
    const n = this.view.getUint32(p, true);
    return new TextDecoder().decode(new Uint8Array(this.view.buffer, this.view.byteOffset + p + 4, n));
  }

  table(id: number): Table | null {
    const p = this.deref(id);
    return p ? new Table(this.view, p) : null;
  }

  /** A vector's element count and the position of its first element. */
  private vector(id: number): { n: number; start: number } {
    const p = this.deref(id);
    return p ? { n: this.view.getUint32(p, true), start: p + 4 } : { n: 0, start: 0 };
  }

  tables(id: number): Table[] {
    const { n, start } = this.vector(id);
    return Array.from({ length: n }, (_, i) => {
      const at = start + 4 * i;
      return new Table(this.view, at + this.view.getUint32(at, true));
    });
  }

  i32s(id: number): number[] {
    const { n, start } = this.vector(id);
    return Array.from({ length: n }, (_, i) => this.view.getInt32(start + 4 * i, true));
  }

  f32s(id: number): number[] {
    const { n, start } = this.vector(id);
    return Array.from({ length: n }, (_, i) => this.view.getFloat32(start + 4 * i, true));
  }

  i64s(id: number): number[] {
    const { n, start } = this.vector(id);
    return Array.from({ length: n }, (_, i) => Number(this.view.getBigInt64(start + 8 * i, true)));
  }

  bytes(id: number): Uint8Array | null {
    const { n, start } = this.vector(id);
    return n ? new Uint8Array(this.view.buffer, this.view.byteOffset + start, n) : null;
  }
}

function optionsOf(op: string, t: Table | null): TfliteOptions {
  if (!t) return {};
  const padding = (id: number) => (t.u8(id) === 1 ? 'VALID' : 'SAME');
  const activation = (id: number) => ACTIVATIONS[t.u8(id)] ?? `activation ${t.u8(id)}`;
  switch (op) {
    case 'CONV_2D':
      return {
        padding: padding(0),
        strideW: t.i32(1),
        strideH: t.i32(2),
        activation: activation(3),
        dilationW: t.i32(4, 1),
        dilationH: t.i32(5, 1),
      };
    case 'DEPTHWISE_CONV_2D':
      return {
        padding: padding(0),
        strideW: t.i32(1),
        strideH: t.i32(2),
        depthMultiplier: t.i32(3),
        activation: activation(4),
        dilationW: t.i32(5, 1),
        dilationH: t.i32(6, 1),
      };
    case 'AVERAGE_POOL_2D':
    case 'MAX_POOL_2D':
      return {
        padding: padding(0),
        strideW: t.i32(1),
        strideH: t.i32(2),
        filterW: t.i32(3),
        filterH: t.i32(4),
        activation: activation(5),
      };
    case 'FULLY_CONNECTED':
      return { activation: activation(0), keepNumDims: t.u8(2) === 1 };
    case 'ADD':
    case 'MUL':
    case 'SUB':
    case 'DIV':
    case 'L2_NORMALIZATION':
      return { activation: activation(0) };
    case 'CONCATENATION':
      return { axis: t.i32(0), activation: activation(1) };
    case 'RESHAPE':
      return { newShape: t.i32s(0) };
    case 'MEAN':
    case 'SUM':
      return { keepDims: t.u8(0) === 1 };
    default:
      return {};
  }
}

/** Parses a .tflite file: its main (first) subgraph. */
export function readTflite(file: Uint8Array): TfliteModel {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const ident = new TextDecoder().decode(file.subarray(4, 8));
  if (ident !== 'TFL3') throw new Error(`not a TFLite model (identifier "${ident}")`);
  const model = new Table(view, view.getUint32(0, true));
  const opcodes = model.tables(1).map((c) => {
    // builtin_code (field 3, int32) supersedes deprecated_builtin_code (field 0, byte) from
    // schema 3a; older files have only the latter.
    const code = Math.max(c.u8(0), c.i32(3));
    return code === 32 ? `CUSTOM:${c.string(1)}` : (BUILTIN_OPS[code] ?? `BUILTIN_${code}`);
  });
  const buffers = model.tables(4).map((b) => b.bytes(0));
  const subgraphs = model.tables(2);
  if (!subgraphs.length) throw new Error('TFLite model without a subgraph');
  const graph = subgraphs[0];
  const tensors = graph.tables(0).map((t, index): TfliteTensor => {
    const q = t.table(4);
    const scale = q?.f32s(2) ?? [];
    return {
      index,
      name: t.string(3),
      shape: t.i32s(0),
      type: TENSOR_TYPES[t.u8(1)] ?? `type ${t.u8(1)}`,
      data: buffers[t.u32(2)] ?? null,
      quantization: scale.length ? { scale, zeroPoint: q!.i64s(3), quantizedDimension: q!.i32(6) } : null,
    };
  });
  const operators = graph.tables(3).map((o) => {
    const op = opcodes[o.u32(0)];
    return { op, inputs: o.i32s(1), outputs: o.i32s(2), options: optionsOf(op, o.table(4)) };
  });
  return {
    version: model.u32(0),
    description: model.string(3),
    tensors,
    inputs: graph.i32s(1),
    outputs: graph.i32s(2),
    operators,
  };
}

/** A float32 constant's values (little-endian), copied out of the file. */
export function tfliteFloats(t: TfliteTensor): Float32Array {
  if (t.type !== 'float32' || !t.data) throw new Error(`tensor ${t.name}: not a float32 constant`);
  const copy = t.data.slice();
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}
