/**
 * face-api's FaceRecognitionNet (dlib's ResNet-34-like 128-D face descriptor) as an ONNX graph,
 * mirroring src/faceRecognitionNet/{FaceRecognitionNet,convLayer,residualLayer,scaleLayer}.ts
 * of @vladmandic/face-api 1.7.15:
 *
 *   (x - meanRgb) / 255 -> convDown 7x7/2 'valid' -> maxPool 3/2 'valid'
 *   -> residual x3 (32) -> residualDown + residual x3 (64) -> residualDown + residual x2 (128)
 *   -> residualDown + residual x2 (256) -> residualDown (256) -> mean over H,W -> matMul fc.
 *
 * Every conv layer is conv + bias, then dlib's affine "scale" layer (x * weights + biases).
 */
import { Graph, VALID, hwioToOihw, outSize, tfSame } from './graph.js';
import { WeightTaker, type Weight } from './tfjs-weights.js';
import { DESCRIPTOR_INPUT_SIZE } from '../../functions/core/faces/model-manifest.js';

const MEAN_RGB = [122.782, 117.001, 104.298];
/** FaceRecognitionNet.forwardInput divides by 255 in 1.7.15 (face-api.js upstream used 256;
 * vladmandic's fork changed it, and it is the fork's output we must reproduce). */
const DIVISOR = 255;

/** [name, channels, isDown] in forwardInput's order. */
const BLOCKS: [string, number, boolean][] = [
  ['conv32_1', 32, false],
  ['conv32_2', 32, false],
  ['conv32_3', 32, false],
  ['conv64_down', 64, true],
  ['conv64_1', 64, false],
  ['conv64_2', 64, false],
  ['conv64_3', 64, false],
  ['conv128_down', 128, true],
  ['conv128_1', 128, false],
  ['conv128_2', 128, false],
  ['conv256_down', 256, true],
  ['conv256_1', 256, false],
  ['conv256_2', 256, false],
  ['conv256_down_out', 256, true],
];

export function buildDescriptor(weights: Map<string, Weight>, metadata: Record<string, string>): Uint8Array {
  const w = new WeightTaker(weights);
  const g = new Graph();
  let size = DESCRIPTOR_INPUT_SIZE;

  let x = g.normalizedPixels('input', {
    mean: MEAN_RGB,
    divisor: DIVISOR,
    prefix: 'pixels',
    output: 'normalized',
  });

  /** convLayer: conv + bias, scale layer, optional relu. 'same' is only used with stride 1. */
  const convLayer = (
    input: string,
    prefix: string,
    cin: number,
    cout: number,
    k: number,
    stride: number,
    padding: 'same' | 'valid',
    withRelu: boolean,
  ): string => {
    const pads = padding === 'same' ? tfSame(size, size, k, stride) : VALID;
    const filters = hwioToOihw(w.take(`${prefix}/conv/filters`, [k, k, cin, cout]));
    let out = g.conv(input, prefix, filters, w.take(`${prefix}/conv/bias`, [cout]).data, { stride, pads });
    // dlib's affine "scale" layer (what batch norm became at inference time): x * weights + biases.
    const scaleW = g.channelConst(`${prefix}/scale/weights`, w.take(`${prefix}/scale/weights`, [cout]).data);
    const scaleB = g.channelConst(`${prefix}/scale/biases`, w.take(`${prefix}/scale/biases`, [cout]).data);
    out = g.node('Add', [g.node('Mul', [out, scaleW]), scaleB]);
    return withRelu ? g.node('Relu', [out]) : out;
  };

  // convDown: 7x7 stride 2 'valid', then maxPool 3 stride 2 'valid'. 150 -> 72 -> 35.
  x = convLayer(x, 'conv32_down', 3, 32, 7, 2, 'valid', true);
  size = outSize(size, 7, 2, 0, 0);
  x = g.node('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2] });
  size = outSize(size, 3, 2, 0, 0);

  let cin = 32;
  for (const [name, cout, isDown] of BLOCKS) {
    if (!isDown) {
      // residual: conv+relu, conv, add input, relu.
      const a = convLayer(x, `${name}/conv1`, cin, cout, 3, 1, 'same', true);
      const b = convLayer(a, `${name}/conv2`, cout, cout, 3, 1, 'same', false);
      x = g.node('Relu', [g.node('Add', [b, x])]);
      continue;
    }
    // residualDown: the main path downsamples with a 3x3 stride-2 'valid' conv, the shortcut
    // with avgPool 2x2/2 'valid'; missing channels of the shortcut are zeros.
    const a = convLayer(x, `${name}/conv1`, cin, cout, 3, 2, 'valid', true);
    const outSz = outSize(size, 3, 2, 0, 0);
    const pooledSz = outSize(size, 2, 2, 0, 0);
    size = outSz;
    let out = convLayer(a, `${name}/conv2`, cout, cout, 3, 1, 'same', false);
    let pooled = g.node('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
    if (pooledSz !== outSz) {
      // The source concatenates one zero row (bottom) and one zero column (right) to `out`;
      // that only lines up when they differ by exactly 1 (8 -> 3 vs 4, and 4 -> 1 vs 2).
      if (pooledSz !== outSz + 1) throw new Error(`${name}: cannot pad ${outSz} to ${pooledSz}`);
      out = g.node('Pad', [out, g.int64s(`${name}/pad_hw`, [0, 0, 0, 0, 0, 0, 1, 1])]);
      size = pooledSz;
    }
    if (cin !== cout) {
      // The source concatenates zeros shaped like `pooled`, so it only works for cout = 2*cin.
      if (cout !== 2 * cin) throw new Error(`${name}: cannot pad ${cin} channels to ${cout}`);
      pooled = g.node('Pad', [pooled, g.int64s(`${name}/pad_c`, [0, 0, 0, 0, 0, cin, 0, 0])]);
    }
    x = g.node('Relu', [g.node('Add', [pooled, out])]);
    cin = cout;
  }

  const pooled = g.node('ReduceMean', [x], { axes: [2, 3], keepdims: 0 });
  const fc = w.take('fc', [256, 128]);
  g.node('MatMul', [pooled, g.floats('fc', fc.shape, fc.data)], {}, 'descriptor');
  w.assertAllUsed();

  return g.encode({
    graphName: 'face_recognition_net',
    doc: 'face-api FaceRecognitionNet (dlib ResNet): input uint8 [N,150,150,3] RGB (NHWC); output [N,128] descriptor.',
    inputs: [
      { name: 'input', dtype: 'uint8', shape: ['N', DESCRIPTOR_INPUT_SIZE, DESCRIPTOR_INPUT_SIZE, 3] },
    ],
    outputs: [{ name: 'descriptor', shape: ['N', 128] }],
    metadata,
  });
}
