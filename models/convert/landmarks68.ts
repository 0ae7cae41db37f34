/**
 * face-api's FaceLandmark68Net (the full one) as an ONNX graph, mirroring
 * src/faceFeatureExtractor/FaceFeatureExtractor.ts, denseBlock.ts, common/depthwiseSeparableConv.ts
 * and faceProcessor/FaceProcessor.ts (runNet) of @vladmandic/face-api 1.7.15:
 *
 *   (x - meanRgb) / 255 -> denseBlock4 x4 (each: stride-2 conv then 3 stride-1 separable convs
 *   with dense residual adds) -> avgPool 7x7/2 'valid' -> fully connected 256 -> 136.
 *
 * The output is runNet's raw output (before postProcess): 68 interleaved x,y in 0..1 of the
 * 112x112 input.
 */
import { Graph, VALID, depthwiseToOnnx, hwioToOihw, outSize, tfSame } from './graph.js';
import { WeightTaker, type Weight } from './tfjs-weights.js';
import { LANDMARKS_INPUT_SIZE } from '../../functions/core/faces/model-manifest.js';

const MEAN_RGB = [122.782, 117.001, 104.298];
/** FaceFeatureExtractor.forwardInput divides by 255 (checked in src and dist of 1.7.15). */
const DIVISOR = 255;
const CHANNELS = [32, 64, 128, 256];

export function buildLandmarks68(weights: Map<string, Weight>, metadata: Record<string, string>): Uint8Array {
  const w = new WeightTaker(weights);
  const g = new Graph();
  let size = LANDMARKS_INPUT_SIZE;

  // face-api's normalize() then div(255).
  let x = g.normalizedPixels('input', {
    mean: MEAN_RGB,
    divisor: DIVISOR,
    prefix: 'pixels',
    output: 'normalized',
  });

  /** depthwiseSeparableConv: separableConv2d(..., 'same') + bias. */
  const separable = (input: string, prefix: string, cin: number, cout: number, stride: number): string => {
    const depthwise = depthwiseToOnnx(w.take(`${prefix}/depthwise_filter`, [3, 3, cin, 1]));
    const pads = tfSame(size, size, 3, stride);
    const dw = g.conv(input, `${prefix}/depthwise`, depthwise, undefined, { stride, pads, group: cin });
    const pointwise = hwioToOihw(w.take(`${prefix}/pointwise_filter`, [1, 1, cin, cout]));
    const bias = w.take(`${prefix}/bias`, [cout]).data;
    return g.conv(dw, `${prefix}/pointwise`, pointwise, bias, { stride: 1, pads: VALID });
  };
  const relu = (t: string) => g.node('Relu', [t]);
  const add = (a: string, b: string) => g.node('Add', [a, b]);

  let cin = 3;
  CHANNELS.forEach((cout, i) => {
    const p = `dense${i}`;
    // conv0 (stride 2) halves the size; the stride-1 convs after it see the halved size.
    const down = tfSame(size, size, 3, 2);
    let conv0: string;
    if (i === 0) {
      // The first block starts with a plain conv2d (3 input channels, nothing to separate).
      const filters = hwioToOihw(w.take(`${p}/conv0/filters`, [3, 3, cin, cout]));
      const bias = w.take(`${p}/conv0/bias`, [cout]).data;
      conv0 = g.conv(x, `${p}/conv0`, filters, bias, { stride: 2, pads: down });
    } else {
      conv0 = separable(x, `${p}/conv0`, cin, cout, 2);
    }
    size = outSize(size, 3, 2, down.top, down.bottom);
    const out1 = relu(conv0);
    // The add nesting below is exactly denseBlock4's, so float rounding matches tfjs.
    const out2 = separable(out1, `${p}/conv1`, cout, cout, 1);
    const in3 = relu(add(out1, out2));
    const out3 = separable(in3, `${p}/conv2`, cout, cout, 1);
    const in4 = relu(add(out1, add(out2, out3)));
    const out4 = separable(in4, `${p}/conv3`, cout, cout, 1);
    x = relu(add(out1, add(out2, add(out3, out4))));
    cin = cout;
  });

  // avgPool 7x7 stride 2 'valid' on 7x7 -> 1x1.
  x = g.node('AveragePool', [x], { kernel_shape: [7, 7], strides: [2, 2] });
  size = outSize(size, 7, 2, 0, 0);
  const features = cin * size * size;
  // tfjs flattens NHWC; go back to NHWC first so the FC weights apply in the same order.
  x = g.node('Flatten', [g.node('Transpose', [x], { perm: [0, 2, 3, 1] })], { axis: 1 });
  const fcW = w.take('fc/weights', [features, 136]);
  const fcB = w.take('fc/bias', [136]);
  const mm = g.node('MatMul', [x, g.floats('fc/weights', fcW.shape, fcW.data)]);
  g.node('Add', [mm, g.floats('fc/bias', [136], fcB.data)], {}, 'landmarks');
  w.assertAllUsed();

  return g.encode({
    graphName: 'face_landmark_68',
    doc: 'face-api FaceLandmark68Net: input uint8 [N,112,112,3] RGB (NHWC); output [N,136] x0,y0,... in 0..1 of the input.',
    inputs: [{ name: 'input', dtype: 'uint8', shape: ['N', LANDMARKS_INPUT_SIZE, LANDMARKS_INPUT_SIZE, 3] }],
    outputs: [{ name: 'landmarks', shape: ['N', 136] }],
    metadata,
  });
}
