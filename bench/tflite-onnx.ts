/**
 * A float32 TFLite graph of the kinds face descriptors use (CONV_2D, DEPTHWISE_CONV_2D, the
 * elementwise RELU / ABS / ADD / SUB / MUL, a final RESHAPE) as an ONNX graph: NHWC tensors become
 * NCHW (filters transposed, per-channel constants shaped [1,C,1,1]), TF 'SAME' padding explicit,
 * batch dynamic, 8-bit RGB NHWC pixels in with the normalisation in the graph (`Graph.normalizedPixels`).
 * TOCO's PReLU pattern becomes depthwise convolutions (`preluAsConvs`: same values, 1.6-3x faster
 * on onnxruntime); weights otherwise untouched. Anything else in the graph is refused by name.
 * Checked against TFLite's own interpreter by bench/candidates-tflite.ts `--check`.
 */
import { Graph, VALID, tfSame, type Pads2d } from '../models/convert/graph.js';
import { readTflite, tfliteFloats, type TfliteModel, type TfliteTensor } from './tflite.js';

export interface TfliteToOnnxOptions {
  graphName: string;
  doc: string;
  /** Pixel normalisation the net was trained with: (v - mean) / divisor on each channel. */
  mean: number;
  divisor: number;
  /** Reverse the input channels (the net expects BGR; the graph then takes RGB). */
  bgr?: boolean;
  metadata: Record<string, string>;
}

/** A TFLite conv filter OHWI [O,kh,kw,I] as ONNX OIHW. */
function ohwiToOihw(t: TfliteTensor, reverseInputs: boolean): { data: Float32Array; dims: number[] } {
  const [o, kh, kw, ci] = t.shape;
  const src = tfliteFloats(t);
  const out = new Float32Array(src.length);
  for (let oc = 0; oc < o; oc++)
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let ic = 0; ic < ci; ic++)
          out[((oc * ci + (reverseInputs ? ci - 1 - ic : ic)) * kh + y) * kw + x] =
            src[((oc * kh + y) * kw + x) * ci + ic];
  return { data: out, dims: [o, ci, kh, kw] };
}

/** A TFLite depthwise filter [1,kh,kw,C] (multiplier 1) as an ONNX grouped-conv weight [C,1,kh,kw]. */
function depthwiseFilter(t: TfliteTensor): { data: Float32Array; dims: number[] } {
  const [one, kh, kw, c] = t.shape;
  if (one !== 1) throw new Error(`${t.name}: depthwise filter shape [${t.shape}]`);
  const src = tfliteFloats(t);
  const out = new Float32Array(src.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let ch = 0; ch < c; ch++) out[(ch * kh + y) * kw + x] = src[(y * kw + x) * c + ch];
  return { data: out, dims: [c, 1, kh, kw] };
}

/**
 * TF's PReLU as TOCO writes it, `Relu(x) + a (x - |x|)` (RELU, ABS, SUB, MUL by a per-channel
 * constant, ADD), found by operator index: the ADD maps to x and a, the other four to null. Each
 * intermediate must feed only the next step.
 */
function findPrelus(model: TfliteModel): Map<number, { x: number; slope: number } | null> {
  const ops = model.operators;
  const producer = new Map<number, number>();
  const uses = new Map<number, number>();
  ops.forEach((op, i) => {
    op.outputs.forEach((t) => producer.set(t, i));
    op.inputs.forEach((t) => uses.set(t, (uses.get(t) ?? 0) + 1));
  });
  const from = (t: number, kind: string) => {
    const i = producer.get(t);
    return i !== undefined && ops[i].op === kind && uses.get(t) === 1 ? i : undefined;
  };
  const found = new Map<number, { x: number; slope: number } | null>();
  ops.forEach((op, add) => {
    if (op.op !== 'ADD' || (op.options.activation ?? 'NONE') !== 'NONE') return;
    for (const [r, m] of [op.inputs, [...op.inputs].reverse()]) {
      const relu = from(r, 'RELU');
      const mul = from(m, 'MUL');
      if (relu === undefined || mul === undefined) continue;
      const x = ops[relu].inputs[0];
      const [m0, m1] = ops[mul].inputs;
      const [slope, diff] = model.tensors[m0].data ? [m0, m1] : [m1, m0];
      const sub = from(diff, 'SUB');
      if (!model.tensors[slope].data || sub === undefined || ops[sub].inputs[0] !== x) continue;
      const abs = from(ops[sub].inputs[1], 'ABS');
      if (abs === undefined || ops[abs].inputs[0] !== x) continue;
      for (const part of [relu, abs, sub, mul]) found.set(part, null);
      found.set(add, { x, slope });
      return;
    }
  });
  return found;
}

/**
 * PReLU `Relu(x) + a (x - |x|)` = `Relu(x) - 2a Relu(-x)`, the negation and the product as 1x1
 * depthwise convolutions: onnxruntime runs those in its blocked (NCHWc) layout with the rest of
 * the net (the rewrite models/convert/mobilefacenet.ts makes for our MobileFaceNet).
 */
function preluAsConvs(g: Graph, x: string, a: Float32Array): string {
  const weights = (values: Float32Array) => ({
    data: values,
    dims: [values.length, 1, 1, 1],
  });
  const c = a.length;
  const opts = { stride: 1, pads: VALID, group: c };
  const negated = g.conv(x, 'prelu/minus-one', weights(new Float32Array(c).fill(-1)), undefined, opts);
  const negative = g.node('Relu', [negated]);
  const scaled = g.conv(negative, 'prelu/minus-slope', weights(a.map((v) => -2 * v)), undefined, opts);
  return g.node('Add', [g.node('Relu', [x]), scaled]);
}

export function tfliteToOnnx(file: Uint8Array, options: TfliteToOnnxOptions): Uint8Array {
  const model: TfliteModel = readTflite(file);
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new Error(
      `expected one input and one output, not ${model.inputs.length} / ${model.outputs.length}`,
    );
  const input = model.tensors[model.inputs[0]];
  const [, height, width, channels] = input.shape;
  if (input.type !== 'float32' || input.shape.length !== 4 || channels !== 3)
    throw new Error(`input ${input.name}: ${input.type} [${input.shape}], expected float32 NHWC RGB`);
  const quantized = model.tensors.find((t) => t.type !== 'float32' && t.type !== 'int32');
  if (quantized)
    throw new Error(`tensor ${quantized.name} is ${quantized.type}: only float32 graphs are converted`);

  const g = new Graph();
  /** TFLite tensor index -> ONNX value name (4-D activations are NCHW). */
  const names = new Map<number, string>();
  names.set(
    input.index,
    g.normalizedPixels('input', {
      mean: [options.mean, options.mean, options.mean],
      divisor: options.divisor,
      prefix: 'pixels',
      output: 'pixels/normalized',
    }),
  );
  const value = (i: number): string => {
    const known = names.get(i);
    if (known) return known;
    const t = model.tensors[i];
    if (!t.data) throw new Error(`tensor ${t.name} is used before it is computed`);
    // A constant operand of an elementwise op: per channel ([C]) or a scalar.
    const v = tfliteFloats(t);
    const name = t.shape.length === 1 && t.shape[0] > 1 ? g.channelConst(t.name, v) : g.floats(t.name, [], v);
    names.set(i, name);
    return name;
  };
  /** NHWC [N,H,W,C] shapes of the activations, from the file (batch ignored). */
  const hw = (i: number) => model.tensors[i].shape.slice(1, 3) as [number, number];
  const activation = (out: string, fn: string | undefined): string => {
    if (!fn || fn === 'NONE') return out;
    if (fn === 'RELU') return g.node('Relu', [out]);
    if (fn === 'RELU6')
      return g.node('Clip', [
        out,
        g.floats('zero', [], Float32Array.of(0)),
        g.floats('six', [], Float32Array.of(6)),
      ]);
    throw new Error(`fused activation ${fn} not supported`);
  };
  const pads = (i: number, kh: number, kw: number, stride: number, padding: string | undefined): Pads2d => {
    if (padding === 'VALID') return VALID;
    if (kh !== kw) throw new Error('SAME padding of a non-square kernel');
    const [h, w] = hw(i);
    return tfSame(h, w, kh, stride);
  };

  const prelus = findPrelus(model);
  for (const [index, op] of model.operators.entries()) {
    const [a, b, c] = op.inputs;
    const o = op.options;
    let out: string;
    const prelu = prelus.get(index);
    if (prelu === null) continue; // a part of a PReLU, written at its final ADD
    if (prelu) {
      names.set(op.outputs[0], preluAsConvs(g, value(prelu.x), tfliteFloats(model.tensors[prelu.slope])));
      continue;
    }
    switch (op.op) {
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        if ((o.dilationW ?? 1) !== 1 || (o.dilationH ?? 1) !== 1 || o.strideW !== o.strideH)
          throw new Error(`${op.op} with dilation or unequal strides`);
        const depthwise = op.op === 'DEPTHWISE_CONV_2D';
        if (depthwise && o.depthMultiplier !== 1) throw new Error('depthwise multiplier other than 1');
        const filter = model.tensors[b];
        const w = depthwise
          ? depthwiseFilter(filter)
          : ohwiToOihw(filter, !!options.bgr && a === input.index);
        const bias = c >= 0 ? tfliteFloats(model.tensors[c]) : undefined;
        const conv = g.conv(value(a), filter.name, w, bias, {
          stride: o.strideW!,
          pads: pads(a, w.dims[2], w.dims[3], o.strideW!, o.padding),
          group: depthwise ? w.dims[0] : 1,
        });
        out = activation(conv, o.activation);
        break;
      }
      case 'RELU':
        out = g.node('Relu', [value(a)]);
        break;
      case 'ABS':
        out = g.node('Abs', [value(a)]);
        break;
      case 'ADD':
      case 'SUB':
      case 'MUL':
        out = activation(
          g.node({ ADD: 'Add', SUB: 'Sub', MUL: 'Mul' }[op.op], [value(a), value(b)]),
          o.activation,
        );
        break;
      case 'RESHAPE': {
        // Only the final flattening of [N,1,1,C] to [N,C] (identical in NCHW).
        const shape = model.tensors[op.outputs[0]].shape;
        const from = model.tensors[a].shape;
        if (shape.length !== 2 || from.length !== 4 || from[1] !== 1 || from[2] !== 1)
          throw new Error(`RESHAPE [${from}] -> [${shape}] not supported`);
        out = g.node('Reshape', [value(a), g.int64s('flat', [-1, shape[1]])]);
        break;
      }
      default:
        throw new Error(`TFLite operator ${op.op} not supported`);
    }
    names.set(op.outputs[0], out);
  }
  const output = model.tensors[model.outputs[0]];
  const last = names.get(output.index)!;
  const final = g.node('Identity', [last], {}, 'output');
  return g.encode({
    graphName: options.graphName,
    doc: options.doc,
    inputs: [{ name: 'input', shape: ['N', height, width, 3], dtype: 'uint8' }],
    outputs: [{ name: final, shape: ['N', output.shape[output.shape.length - 1]] }],
    metadata: options.metadata,
  });
}
