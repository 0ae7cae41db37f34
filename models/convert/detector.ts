/**
 * Frees RFB-320 from its 320x240 input. The exported graph ends in a box decoder whose prior
 * boxes are constants for 320x240 (4420 anchors); everything before it is convolutional and
 * reshapes with a dynamic batch and -1 anchors. Cutting the graph at the raw regression output
 * and declaring height and width dynamic lets the detector run once at any input size (a
 * whole frame, scaled so that small faces are big enough), with the priors generated and the
 * boxes decoded in TypeScript (functions/core/faces/detection-passes.ts), where a test checks them
 * against the original decoder.
 *
 * It also takes 8-bit RGB pixels, NHWC, like the other two nets: the cast, the transpose to
 * NCHW and RFB-320's normalisation (v - 127) / 128 run inside onnxruntime. Done in JavaScript
 * they cost ~3 ms per 640x360 input on this project's 2-core machine, a third of the net.
 */
import onnxProto from 'onnx-proto';
import {
  DETECTOR_LOCATIONS_OUTPUT,
  DETECTOR_SCORES_OUTPUT,
} from '../../functions/core/faces/model-manifest.js';
import { Graph } from './graph.js';

// onnx-proto is CommonJS whose exports are built at runtime, so only the default import works.
const { onnx } = onnxProto;

export function makeSizeFreeDetector(original: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(original);
  const graph = model.graph!;
  const nodes = graph.node!;
  const boxesProducer = nodes.find((n) => n.output?.includes('boxes'));
  const softmax = nodes.find((n) => n.output?.includes(DETECTOR_SCORES_OUTPUT));
  if (!boxesProducer || !softmax)
    throw new Error('detector graph: no `boxes`/`scores` outputs; not the expected RFB-320 export');
  // The regression Concat is the one input of the decoder that no decoder node produces: find
  // the decoder as everything downstream of the first consumer of the raw regression tensor.
  const rawConcat = nodes.find(
    (n) =>
      n.opType === 'Concat' &&
      n !== softmax &&
      nodes.some((m) => m.opType === 'Slice' && m.input?.[0] === n.output?.[0]),
  );
  if (!rawConcat) throw new Error('detector graph: raw regression Concat not found');
  const raw = rawConcat.output![0];
  const decoderStart = nodes.findIndex((n) => n.opType === 'Slice' && n.input?.[0] === raw);
  // Keep every node up to the decoder, except decoder nodes that come later.
  const kept = nodes.slice(0, decoderStart);
  for (const n of kept) n.output = n.output!.map((o) => (o === raw ? DETECTOR_LOCATIONS_OUTPUT : o));
  for (const n of kept) n.input = n.input!.map((i) => (i === raw ? DETECTOR_LOCATIONS_OUTPUT : i));
  graph.node = kept;
  const used = new Set(kept.flatMap((n) => n.input!));
  graph.initializer = graph.initializer!.filter((t) => used.has(t.name!));

  // The original input becomes an inner tensor, fed by the pixel preparation.
  const inputName = graph.input![0].name!;
  const normalized = 'pixels/normalized';
  for (const n of graph.node) n.input = n.input!.map((i) => (i === inputName ? normalized : i));
  const prep = new Graph();
  prep.normalizedPixels(inputName, {
    mean: [127, 127, 127],
    divisor: 128,
    prefix: 'pixels',
    output: normalized,
  });
  const { nodes: prepNodes, initializers } = prep.parts();
  graph.node = [...prepNodes, ...graph.node];
  graph.initializer.push(...initializers);
  graph.input = [
    onnx.ValueInfoProto.create({
      name: inputName,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.UINT8,
          shape: {
            dim: [{ dimParam: 'batch' }, { dimParam: 'height' }, { dimParam: 'width' }, { dimValue: 3 }],
          },
        },
      },
    }),
  ];
  const output = (name: string, last: number) =>
    onnx.ValueInfoProto.create({
      name,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'anchors' }, { dimValue: last }] },
        },
      },
    });
  graph.output = [output(DETECTOR_SCORES_OUTPUT, 2), output(DETECTOR_LOCATIONS_OUTPUT, 4)];
  // Shapes recorded for 320x240 would now be wrong; onnxruntime infers them again.
  graph.valueInfo = [];
  return onnx.ModelProto.encode(model).finish();
}
