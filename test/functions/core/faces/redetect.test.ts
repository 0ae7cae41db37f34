import { detectFaces } from '#functions/core/faces/detect-faces.js';
import { DEFAULT_DETECT_OPTIONS } from '#functions/core/faces/detection-passes.js';
import type { Box } from '#functions/core/faces/types.js';
import { fakeDetector } from '#test/support/fake-detector.js';

// 640x480: the coarse pass sees it at 320x240 (scale 0.5) and no fine pass is needed.
const image = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 3) };
const options = DEFAULT_DETECT_OPTIONS;
const scaled = (b: Box, s: number, dx = 0, dy = 0): Box => ({
  x: (b.x - dx) * s,
  y: (b.y - dy) * s,
  width: b.width * s,
  height: b.height * s,
});

// A close-up: the coarse pass's box (hair included, 130 of 240 detector pixels high) and the
// face's own box, which the crop around it shows.
const coarseBox = { x: 200, y: 100, width: 200, height: 260 };
const faceBox = { x: 225, y: 150, width: 160, height: 200 };
// The crop: twice the box's longer side (520 px), centred on the box, seen at 240x240.
const crop = { x0: 300 - 260, y0: 230 - 260, scale: 240 / 520 };

function closeUpNet(inCrop: Box | undefined) {
  return fakeDetector((input) => {
    if (input.width === 320) return { box: scaled(coarseBox, 0.5), score: 0.99 };
    return inCrop && { box: scaled(inCrop, crop.scale, crop.x0, crop.y0), score: 0.97 };
  });
}

describe('detectFaces: large faces are detected again in a crop around them', () => {
  it('takes the box the crop gives, keeping the first score', async () => {
    const { net, calls } = closeUpNet(faceBox);
    const [face, ...rest] = await detectFaces(net, image, options);
    expect(rest).toEqual([]);
    expect(calls).toEqual([320, 240]);
    expect(face.score).toBeCloseTo(0.99, 5);
    expect(face.box.x).toBeCloseTo(faceBox.x, 0);
    expect(face.box.y).toBeCloseTo(faceBox.y, 0);
    expect(face.box.width).toBeCloseTo(faceBox.width, 0);
    expect(face.box.height).toBeCloseTo(faceBox.height, 0);
  });

  it('keeps the first box when the crop finds nothing, or only something else', async () => {
    for (const inCrop of [undefined, { x: 60, y: 380, width: 60, height: 70 }]) {
      const { net } = closeUpNet(inCrop);
      const [face] = await detectFaces(net, image, options);
      expect(face.box.x).toBeCloseTo(coarseBox.x, 0);
      expect(face.box.height).toBeCloseTo(coarseBox.height, 0);
    }
  });

  it('leaves faces under redetectFrom of the input height alone', async () => {
    const small = { x: 200, y: 100, width: 120, height: 150 }; // 75 of 240 detector pixels
    const { net, calls } = fakeDetector((input) =>
      input.width === 320 ? { box: scaled(small, 0.5), score: 0.99 } : undefined,
    );
    const [face] = await detectFaces(net, image, options);
    expect(calls).toEqual([320]);
    expect(face.box.height).toBeCloseTo(small.height, 0);
  });

  it('is off with redetectFrom 0', async () => {
    const { net, calls } = closeUpNet(faceBox);
    await detectFaces(net, image, { ...options, redetectFrom: 0 });
    expect(calls).toEqual([320]);
  });
});
