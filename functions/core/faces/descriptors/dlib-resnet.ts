/**
 * dlib's ResNet (face-api's FaceRecognitionNet converted to ONNX): 150x150 chips, 128-D,
 * compared by Euclidean distance. Chips by FACEREC_ALIGNMENT (align.ts).
 */
import { alignFace } from '../align.js';
import { describeFaces, DESCRIPTOR_SIZE, type DescriptorModel } from '../describe.js';
import { DESCRIPTOR_INPUT_SIZE, DESCRIPTOR_MODEL_ID } from '../model-manifest.js';

export const dlibResnet: DescriptorModel = {
  modelName: 'descriptor',
  size: DESCRIPTOR_SIZE,
  chipSize: DESCRIPTOR_INPUT_SIZE,
  metric: 'euclidean',
  // dlib's own 0.6 (calibrating it on labelled data did not beat it: docs/benchmarks.md).
  pairThreshold: 0.6,
  mirrorByDefault: true,
  // Its chip absorbs the landmark errors a wider square mends for MobileFaceNet.
  landmarkSquareScale: 1,
  differentPersonTail: [
    [1e-2, 0.584],
    [3e-3, 0.543],
    [1e-3, 0.506],
    [3e-4, 0.468],
    [1e-4, 0.44],
    [3e-5, 0.409],
  ],
  enrollmentRecipe: 'views:mirror',
  chipId: (alignment) => `${DESCRIPTOR_MODEL_ID}/${alignment}`,
  describe(net, faces, { alignment, mirror, enrollment }) {
    const chips = faces.map((f) => alignFace(f.image, f.landmarks, alignment));
    // An enrolled photo is always mirror-averaged (its template's one extra view).
    return describeFaces(net, chips, mirror || enrollment, { size: DESCRIPTOR_SIZE, normalize: false });
  },
};
