/**
 * MobileFaceNet (512-D, ArcFace-style 112x112 chips) from faceplugin-face-recognition-js's
 * `model/fr_feature.onnx` (a PyTorch 1.10 export, opset 9, batch fixed at 1, NCHW float input
 * (v - 127) / 128 in BGR order, no L2 normalisation at the end). Its layers are those of the
 * public InsightFace_Pytorch MobileFaceNet: 50 Conv (conv1, conv2_dw, 15 Depth_Wise blocks of
 * 3 convs, conv_6_sep, conv_6_dw, the linear layer as a 1x1 conv; BatchNorms folded), 33 PRelu,
 * 12 residual Adds.
 *
 * What this does to it, weights otherwise untouched:
 * - denormal weights (8,938 values in 20 tensors, |v| < 2^-126) become 0: the CPU's slow path
 *   for them made the net ~3x slower, and they are ~1e-38, so the output does not move
 *   (checked by test/models/conversion.test.ts against the original file);
 * - the channel order is folded into the first convolution (its input channels reversed), so
 *   the graph takes RGB like the other nets and BGR costs nothing at run time;
 * - 8-bit RGB NHWC pixels in, cast, transpose and (v - 127) / 128 in the graph;
 * - the batch is dynamic (the final Reshape's [1, 512] becomes [-1, 512]).
 */
import onnxProto from 'onnx-proto';
import { Graph } from './graph.js';

const { onnx } = onnxProto;

/** float32 values below this magnitude (and not zero) are denormal. */
const FLT_MIN = 1.1754943508222875e-38;

export interface MobileFaceNetOptions {
  /** The channel order the weights expect (BGR for this file; RGB kept for the comparison). */
  channelOrder: 'bgr' | 'rgb';
  /** Zero the denormal weights. */
  flushDenormals: boolean;
  metadata: Record<string, string>;
}

function floatsOf(t: onnxProto.onnx.ITensorProto): Float32Array {
  if (t.rawData?.length) {
    const bytes = new Uint8Array(t.rawData);
    return new Float32Array(bytes.slice().buffer);
  }
  return Float32Array.from(t.floatData ?? []);
}

function setFloats(t: onnxProto.onnx.ITensorProto, data: Float32Array): void {
  t.rawData = new Uint8Array(data.buffer.slice(0));
  t.floatData = [];
}

export function convertMobileFaceNet(
  original: Uint8Array,
  options: MobileFaceNetOptions,
): { model: Uint8Array; denormalsZeroed: number } {
  const model = onnx.ModelProto.decode(original);
  const graph = model.graph!;
  const nodes = graph.node!;
  const inits = new Map(graph.initializer!.map((t) => [t.name!, t]));
  const convs = nodes.filter((n) => n.opType === 'Conv').length;
  const prelus = nodes.filter((n) => n.opType === 'PRelu').length;
  if (convs !== 50 || prelus !== 33 || graph.input?.[0]?.name !== 'input')
    throw new Error(`fr_feature.onnx: ${convs} Conv / ${prelus} PRelu, not the expected MobileFaceNet`);

  let denormalsZeroed = 0;
  if (options.flushDenormals) {
    for (const t of graph.initializer!) {
      if (t.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
      const data = floatsOf(t);
      let changed = 0;
      for (let i = 0; i < data.length; i++) {
        if (data[i] !== 0 && Math.abs(data[i]) < FLT_MIN) {
          data[i] = 0;
          changed++;
        }
      }
      if (changed) {
        setFloats(t, data);
        denormalsZeroed += changed;
      }
    }
  }

  const first = nodes.find((n) => n.input?.[0] === 'input');
  if (first?.opType !== 'Conv') throw new Error('fr_feature.onnx: the input does not feed a Conv');
  if (options.channelOrder === 'bgr') {
    // Reverse the first convolution's input channels: an RGB image through it is the
    // original net on the BGR image.
    const w = inits.get(first.input![1])!;
    const [o, c, kh, kw] = w.dims!.map(Number);
    if (c !== 3) throw new Error(`fr_feature.onnx: first conv has ${c} input channels`);
    const data = floatsOf(w);
    const out = new Float32Array(data.length);
    const plane = kh * kw;
    for (let oc = 0; oc < o; oc++)
      for (let ic = 0; ic < 3; ic++)
        out.set(data.subarray((oc * 3 + ic) * plane, (oc * 3 + ic + 1) * plane), (oc * 3 + (2 - ic)) * plane);
    setFloats(w, out);
  }

  const reshape = nodes.find((n) => n.opType === 'Reshape' && n.output?.[0] === 'output');
  const shape = reshape && inits.get(reshape.input![1]);
  if (!shape) throw new Error('fr_feature.onnx: no final Reshape to [1, 512]');
  const dims = Buffer.alloc(16);
  dims.writeBigInt64LE(-1n, 0);
  dims.writeBigInt64LE(512n, 8);
  shape.rawData = dims;
  shape.int64Data = [];

  const normalized = 'pixels/normalized';
  for (const n of nodes) n.input = n.input!.map((i) => (i === 'input' ? normalized : i));
  const prep = new Graph();
  prep.normalizedPixels('input', {
    mean: [127, 127, 127],
    divisor: 128,
    prefix: 'pixels',
    output: normalized,
  });
  const parts = prep.parts();
  graph.node = [...parts.nodes, ...nodes];
  graph.initializer!.push(...parts.initializers);
  const tensor = (name: string, elemType: number, dim: object[]) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: { dim } } } });
  graph.input = [
    tensor('input', onnx.TensorProto.DataType.UINT8, [
      { dimParam: 'N' },
      { dimValue: 112 },
      { dimValue: 112 },
      { dimValue: 3 },
    ]),
  ];
  graph.output = [tensor('output', onnx.TensorProto.DataType.FLOAT, [{ dimParam: 'N' }, { dimValue: 512 }])];
  graph.valueInfo = [];
  model.metadataProps = Object.entries(options.metadata).map(([key, value]) => ({ key, value }));
  model.producerName = 'facerec-pipeline models/build.ts';
  return { model: onnx.ModelProto.encode(model).finish(), denormalsZeroed };
}
