/**
 * MobileFaceNet (faceplugin's fr_feature.onnx): 112x112 ArcFace chips, 512-D, L2-normalised,
 * compared by cosine distance (1 - cosine similarity). Always the ArcFace chip
 * (FACEREC_ALIGNMENT is dlib's ResNet's choice).
 */
import { arcfaceChip } from '../align.js';
import { describeFaces, toUnitLength, type DescriptorModel } from '../describe.js';
import {
  MOBILEFACENET_INPUT_SIZE,
  MOBILEFACENET_MODEL_ID,
  MOBILEFACENET_OUTPUT_SIZE,
} from '../model-manifest.js';

/** The enrollment views' zoom of the chip (its scale comes from landmarks often squashed on
 * frames): 0.1 left more margin than 0.05 and kept the open-set figures (docs/benchmarks.md). */
const ENROLLMENT_ZOOM = 0.1;

const OPTIONS = { size: MOBILEFACENET_OUTPUT_SIZE, normalize: true };

export const mobileFaceNet: DescriptorModel = {
  modelName: 'mobilefacenet',
  size: MOBILEFACENET_OUTPUT_SIZE,
  chipSize: MOBILEFACENET_INPUT_SIZE,
  metric: 'cosine',
  // Between the labelled faces' same-person max (0.638) and different-person min (0.732).
  pairThreshold: 0.65,
  // Mirroring frames doubled the net's time for no open-set gain (docs/benchmarks.md).
  mirrorByDefault: false,
  // 10% more context keeps the tight chip off squashed landmarks (docs/benchmarks.md).
  landmarkSquareScale: 1.1,
  differentPersonTail: [
    [1e-2, 0.755],
    [3e-3, 0.702],
    [1e-3, 0.659],
    [3e-4, 0.617],
    [1e-4, 0.584],
    [3e-5, 0.542],
  ],
  enrollmentRecipe: `views:mirror+zoom${ENROLLMENT_ZOOM}`,
  chipId: () => `${MOBILEFACENET_MODEL_ID}/arcface-112-span+square110`,
  async describe(net, faces, { mirror, enrollment }) {
    if (!enrollment)
      return describeFaces(
        net,
        faces.map((f) => arcfaceChip(f.image, f.landmarks)),
        mirror,
        OPTIONS,
      );
    // A template: the mean of every view of the chip (as it is, zoomed out, zoomed in; each
    // mirrored), all views of all faces in the one run.
    const zooms = [1, 1 - ENROLLMENT_ZOOM, 1 + ENROLLMENT_ZOOM];
    const chips = zooms.flatMap((zoom) => faces.map((f) => arcfaceChip(f.image, f.landmarks, zoom)));
    const views = await describeFaces(net, chips, true, OPTIONS);
    const descriptors = views.slice(0, faces.length);
    for (let z = 1; z < zooms.length; z++)
      views
        .slice(z * faces.length, (z + 1) * faces.length)
        .forEach((d, i) => d.forEach((v, j) => (descriptors[i][j] += v)));
    for (const d of descriptors) toUnitLength(d);
    return descriptors;
  },
};
