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
 * - the batch is dynamic (the final Reshape's [1, 512] becomes [-1, 512]);
 * - each PRelu (per-channel slope s) becomes Relu(x) - s Relu(-x), the negation and the slope as
 *   1x1 depthwise convolutions: the same value, but onnxruntime's blocked (NCHWc) convolutions
 *   then run the whole net. Its PRelu kernel has no blocked form, so each of the 33 PRelus cost a
 *   reorder out of the blocked layout, a slow broadcast over [C,1,1] and a reorder back: 45% of
 *   the net's time plus 10% in reorders (onnxruntime's profile). Measured one thread, batch 4:
 *   10.3 -> 5.3 ms of CPU per face, outputs bit-identical on the test chips
 *   (test/models/mobilefacenet.test.ts checks them against the original file).
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

/**
 * PRelu(x) = Relu(x) - s Relu(-x), with x -> -x and the product by -s as 1x1 depthwise
 * convolutions (weights [C,1,1,1], group C), which onnxruntime fuses with the Relus and the Add
 * and runs in its blocked layout (see the header). The slope tensor is [C,1,1] here.
 */
function preluAsConvs(
  node: onnxProto.onnx.INodeProto,
  inits: Map<string, onnxProto.onnx.ITensorProto>,
  graph: onnxProto.onnx.IGraphProto,
): onnxProto.onnx.INodeProto[] {
  const [x, slopeName] = node.input!;
  const y = node.output![0];
  const slopeTensor = inits.get(slopeName);
  const slope = slopeTensor && floatsOf(slopeTensor);
  const channels = slope?.length ?? 0;
  if (!slope || slopeTensor.dims!.map(Number).join() !== `${channels},1,1`)
    throw new Error(`fr_feature.onnx: PRelu ${node.name} has no [C,1,1] slope`);
  const id = `prelu/${y}`;
  const weights = (name: string, values: Float32Array) =>
    onnx.TensorProto.create({
      name,
      dims: [channels, 1, 1, 1],
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(values.buffer.slice(0)),
    });
  graph.initializer!.push(
    weights(`${id}/minus-one`, new Float32Array(channels).fill(-1)),
    weights(
      `${id}/minus-slope`,
      slope.map((v) => -v),
    ),
  );
  const depthwise = [{ name: 'group', type: onnx.AttributeProto.AttributeType.INT, i: channels }];
  const op = (opType: string, input: string[], output: string, attribute: object[] = []) =>
    onnx.NodeProto.create({
      opType,
      input,
      output: [output],
      name: `${id}/${output.split('/').pop()}`,
      attribute,
    });
  return [
    op('Relu', [x], `${id}/positive`),
    op('Conv', [x, `${id}/minus-one`], `${id}/negated`, depthwise),
    op('Relu', [`${id}/negated`], `${id}/negative`),
    op('Conv', [`${id}/negative`, `${id}/minus-slope`], `${id}/scaled`, depthwise),
    op('Add', [`${id}/positive`, `${id}/scaled`], y),
  ];
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

  graph.node = nodes.flatMap((n) => (n.opType === 'PRelu' ? preluAsConvs(n, inits, graph) : [n]));
  const used = new Set(graph.node.flatMap((n) => n.input!));
  graph.initializer = graph.initializer!.filter((t) => used.has(t.name!));

  const reshape = graph.node.find((n) => n.opType === 'Reshape' && n.output?.[0] === 'output');
  const shape = reshape && inits.get(reshape.input![1]);
  if (!shape) throw new Error('fr_feature.onnx: no final Reshape to [1, 512]');
  const dims = Buffer.alloc(16);
  dims.writeBigInt64LE(-1n, 0);
  dims.writeBigInt64LE(512n, 8);
  shape.rawData = dims;
  shape.int64Data = [];

  const normalized = 'pixels/normalized';
  for (const n of graph.node) n.input = n.input!.map((i) => (i === 'input' ? normalized : i));
  const prep = new Graph();
  prep.normalizedPixels('input', {
    mean: [127, 127, 127],
    divisor: 128,
    prefix: 'pixels',
    output: normalized,
  });
  const parts = prep.parts();
  graph.node = [...parts.nodes, ...graph.node];
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
