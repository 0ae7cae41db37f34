/**
 * A tiny ONNX graph builder on top of onnx-proto's generated protobuf classes: add nodes and
 * float32 initializers, a few conv/pool helpers that speak TF layouts, and encode a ModelProto.
 * Only what the model converters need.
 */
import onnxProto from 'onnx-proto';
import type { Weight } from './tfjs-weights.js';

// onnx-proto is CommonJS whose exports are built at runtime, so only the default import works.
const { onnx } = onnxProto;

/** ONNX IR 8 + opset 13: accepted by every onnxruntime since 1.10 (we run 1.30). Opset 13
 * still takes ReduceMean axes as an attribute. */
const IR_VERSION = 8;
const OPSET = 13;

/** Integer attributes only (all we need): a number is INT, an array is INTS. */
export type Attrs = Record<string, number | number[]>;

/** A dimension: a fixed size, or a symbolic name for a dynamic axis. */
export type Dim = number | string;

export interface Pads2d {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/** TF 'valid': no padding. */
export const VALID: Pads2d = { top: 0, left: 0, bottom: 0, right: 0 };

/**
 * TF 'same' padding for one spatial size. TF puts the odd pixel at the end (bottom/right), e.g.
 * 3x3 stride 2 on 112 pads 0 before and 1 after, which ONNX's auto_pad=SAME_UPPER would also
 * do, but explicit pads make the graph independent of auto_pad quirks and keep sizes visible.
 */
export function tfSame(inH: number, inW: number, k: number, stride: number): Pads2d {
  const one = (size: number) => {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + k - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)] as const;
  };
  const [top, bottom] = one(inH);
  const [left, right] = one(inW);
  return { top, left, bottom, right };
}

/** Output size of a conv/pool along one axis (floor mode, as both TF and ONNX default to). */
export function outSize(size: number, k: number, stride: number, before: number, after: number): number {
  return Math.floor((size + before + after - k) / stride) + 1;
}

/** TF conv filter HWIO [kh,kw,cin,cout] (also pointwise [1,1,cin,cout]) -> ONNX OIHW. */
export function hwioToOihw(w: Weight): { data: Float32Array; dims: number[] } {
  const [kh, kw, ci, co] = w.shape as [number, number, number, number];
  const out = new Float32Array(w.data.length);
  for (let h = 0; h < kh; h++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++)
          out[((o * ci + i) * kh + h) * kw + x] = w.data[((h * kw + x) * ci + i) * co + o];
  return { data: out, dims: [co, ci, kh, kw] };
}

/** TF depthwise filter [kh,kw,C,1] -> ONNX grouped-conv weight [C,1,kh,kw] (group = C). */
export function depthwiseToOnnx(w: Weight): { data: Float32Array; dims: number[] } {
  const [kh, kw, c, m] = w.shape as [number, number, number, number];
  if (m !== 1) throw new Error(`depthwise multiplier ${m} not supported`);
  const out = new Float32Array(w.data.length);
  for (let h = 0; h < kh; h++)
    for (let x = 0; x < kw; x++)
      for (let ch = 0; ch < c; ch++) out[(ch * kh + h) * kw + x] = w.data[(h * kw + x) * c + ch];
  return { data: out, dims: [c, 1, kh, kw] };
}

export class Graph {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly used = new Set<string>();

  /** A unique tensor name: `prefix`, or `prefix_2`, ... if taken. */
  name(prefix: string): string {
    let n = prefix;
    for (let i = 2; this.used.has(n); i++) n = `${prefix}_${i}`;
    this.used.add(n);
    return n;
  }

  /** A float32 initializer (weights), stored as little-endian raw_data. */
  floats(prefix: string, dims: number[], data: Float32Array): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`${prefix}: ${data.length} values for dims [${dims}]`);
    const raw = Buffer.alloc(data.length * 4);
    for (let i = 0; i < data.length; i++) raw.writeFloatLE(data[i], i * 4);
    const name = this.name(prefix);
    this.initializers.push(
      onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw }),
    );
    return name;
  }

  /** An int64 initializer (shapes, pads). */
  int64s(prefix: string, values: number[]): string {
    const raw = Buffer.alloc(values.length * 8);
    values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
    const name = this.name(prefix);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [values.length],
        dataType: onnx.TensorProto.DataType.INT64,
        rawData: raw,
      }),
    );
    return name;
  }

  /** Adds one node with one output and returns the output's name. */
  node(opType: string, inputs: string[], attrs: Attrs = {}, output?: string): string {
    const out = output ?? this.name(opType.toLowerCase());
    if (output) this.used.add(output);
    const attribute = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v })
        : onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v }),
    );
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [out], name: out, attribute }));
    return out;
  }

  /**
   * Every net's first steps: 8-bit RGB pixels, NHWC -> float32 NCHW, (v - mean[c]) / divisor.
   * In the graph, the cast runs in onnxruntime, vectorised (a JavaScript loop cost ~3 ms per
   * 640x360 detector input); transposed before normalising, so that the mean broadcasts over
   * whole planes (onnxruntime's broadcast over a last axis of 3 cost ~0.8 ms per two chips).
   * Names start with `prefix`, so that they cannot clash with those of a graph this is put in
   * front of (the detector's); the result is named `output`.
   */
  normalizedPixels(
    input: string,
    { mean, divisor, prefix, output }: { mean: number[]; divisor: number; prefix: string; output: string },
  ): string {
    const pixels = this.node('Cast', [input], { to: onnx.TensorProto.DataType.FLOAT }, `${prefix}/float`);
    const nchw = this.node('Transpose', [pixels], { perm: [0, 3, 1, 2] }, `${prefix}/nchw`);
    const meanConst = this.channelConst(`${prefix}/mean`, Float32Array.from(mean));
    const centred = this.node('Sub', [nchw, meanConst], {}, `${prefix}/centred`);
    const scale = this.floats(`${prefix}/divisor`, [], Float32Array.of(divisor));
    return this.node('Div', [centred, scale], {}, output);
  }

  /** The nodes and initializers added so far, to put in front of an existing graph. */
  parts(): {
    nodes: InstanceType<typeof onnx.NodeProto>[];
    initializers: InstanceType<typeof onnx.TensorProto>[];
  } {
    return { nodes: [...this.nodes], initializers: [...this.initializers] };
  }

  /** ONNX Conv on an NCHW tensor, with explicit (possibly asymmetric) pads. */
  conv(
    x: string,
    prefix: string,
    w: { data: Float32Array; dims: number[] },
    bias: Float32Array | undefined,
    opts: { stride: number; pads: Pads2d; group?: number },
  ): string {
    const inputs = [x, this.floats(`${prefix}/W`, w.dims, w.data)];
    if (bias) inputs.push(this.floats(`${prefix}/B`, [bias.length], bias));
    const { top, left, bottom, right } = opts.pads;
    return this.node('Conv', inputs, {
      kernel_shape: w.dims.slice(2),
      strides: [opts.stride, opts.stride],
      pads: [top, left, bottom, right],
      group: opts.group ?? 1,
    });
  }

  /** Per-channel constant of an NCHW tensor, shaped [1,C,1,1] so it broadcasts. */
  channelConst(prefix: string, values: Float32Array): string {
    return this.floats(prefix, [1, values.length, 1, 1], values);
  }

  /** Encodes the graph as an ONNX ModelProto. */
  encode(opts: {
    graphName: string;
    doc: string;
    inputs: { name: string; shape: Dim[]; dtype?: 'float32' | 'uint8' }[];
    outputs: { name: string; shape: Dim[] }[];
    metadata: Record<string, string>;
  }): Uint8Array {
    const valueInfo = (v: { name: string; shape: Dim[]; dtype?: 'float32' | 'uint8' }) =>
      onnx.ValueInfoProto.create({
        name: v.name,
        type: {
          tensorType: {
            elemType: v.dtype === 'uint8' ? onnx.TensorProto.DataType.UINT8 : onnx.TensorProto.DataType.FLOAT,
            shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
          },
        },
      });
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'facerec-pipeline models/build.ts',
      docString: opts.doc,
      metadataProps: Object.entries(opts.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: opts.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: opts.inputs.map(valueInfo),
        output: opts.outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
