/**
 * The descriptor models (functions/core/faces/descriptors/), one file each behind one interface:
 * what each feeds its net (chip size, views per face, all in one run) and what galleries record
 * of it. A fake net stands in for the ONNX one: it records its batches and answers from the
 * pixels, so the views' arithmetic is checked without the models.
 */
import type { DescriptorNet, FaceToDescribe } from '#functions/core/faces/describe.js';
import { DESCRIPTOR_KINDS, DESCRIPTORS } from '#functions/core/faces/descriptors/registry.js';
import type { Point } from '#functions/core/faces/types.js';

/** A 200x200 image with a gradient (so chips and their mirror images differ) and 68 landmarks
 * laid out as a frontal face: eyes at y 90, nose tip at (100, 110), mouth at y 135. */
function face(): FaceToDescribe {
  const width = 200;
  const height = 200;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set([x, y, (x * y) % 256], (y * width + x) * 3);
  const landmarks: Point[] = Array.from({ length: 68 }, () => ({ x: 100, y: 115 }));
  const place = (from: number, to: number, cx: number, cy: number, spread: number) => {
    for (let i = from; i <= to; i++)
      landmarks[i] = { x: cx + ((i - from) / Math.max(1, to - from) - 0.5) * spread, y: cy };
  };
  place(36, 41, 78, 90, 16); // one eye
  place(42, 47, 122, 90, 16); // the other
  place(27, 35, 100, 105, 10); // nose
  landmarks[30] = { x: 100, y: 110 };
  landmarks[33] = { x: 100, y: 115 };
  place(48, 67, 100, 135, 30); // mouth, corners at 48 and 54
  landmarks[48] = { x: 85, y: 135 };
  landmarks[54] = { x: 115, y: 135 };
  return { image: { data, width, height }, landmarks };
}

/** A net that records each batch and gives each chip `size` values from its pixels. */
function recordingNet(size: number, chipSize: number) {
  const calls: Array<{ count: number; bytes: number }> = [];
  const net: DescriptorNet = async (batch, count) => {
    calls.push({ count, bytes: batch.length });
    const per = batch.length / count;
    const out = new Float32Array(count * size);
    for (let c = 0; c < count; c++)
      for (let j = 0; j < size; j++) out[c * size + j] = batch[c * per + ((j * 997) % per)] / 255 + 0.01;
    return out;
  };
  return { net, calls, chipBytes: chipSize * chipSize * 3 };
}

const length = (v: Float32Array) => Math.hypot(...v);

describe('descriptor models', () => {
  const faces = [face(), face()];

  it('mobilefacenet: a frame is one ArcFace chip per face; a template, six views per face, all in one run, at unit length', async () => {
    const model = DESCRIPTORS.mobilefacenet;
    const frame = recordingNet(model.size, model.chipSize);
    const single = await model.describe(frame.net, faces, {
      alignment: 'dlib-chip',
      mirror: false,
      enrollment: false,
    });
    expect(frame.calls).toEqual([{ count: 2, bytes: 2 * frame.chipBytes }]);
    expect(single.map((d) => d.length)).toEqual([512, 512]);
    single.forEach((d) => expect(length(d)).toBeCloseTo(1, 5));

    const template = recordingNet(model.size, model.chipSize);
    const views = await model.describe(template.net, faces, {
      alignment: 'dlib-chip',
      mirror: false,
      enrollment: true,
    });
    // 3 zooms x (chip + mirror image) x 2 faces.
    expect(template.calls).toEqual([{ count: 12, bytes: 12 * template.chipBytes }]);
    views.forEach((d) => expect(length(d)).toBeCloseTo(1, 5));
    // Several views averaged: not the single view.
    expect(Array.from(views[0])).not.toEqual(Array.from(single[0]));
  });

  it('dlib-resnet: one chip per face of the chosen alignment, mirrored when asked and always for a template', async () => {
    const model = DESCRIPTORS['dlib-resnet'];
    for (const [mirror, enrollment, perFace] of [
      [false, false, 1],
      [true, false, 2],
      [false, true, 2],
    ] as const) {
      const { net, calls, chipBytes } = recordingNet(model.size, model.chipSize);
      const out = await model.describe(net, faces, { alignment: 'landmark-box', mirror, enrollment });
      expect(calls).toEqual([{ count: 2 * perFace, bytes: 2 * perFace * chipBytes }]);
      expect(out.map((d) => d.length)).toEqual([128, 128]);
    }
  });

  it('keeps the recipe ids galleries record (a change re-describes every enrolled photo)', () => {
    expect(DESCRIPTORS.mobilefacenet.enrollmentRecipe).toBe('views:mirror+zoom0.1');
    expect(DESCRIPTORS['dlib-resnet'].enrollmentRecipe).toBe('views:mirror');
  });

  it.each(DESCRIPTOR_KINDS)(
    '%s: its different-person tail falls with the share, as open-set.ts interpolates it',
    (kind) => {
      const tail = DESCRIPTORS[kind].differentPersonTail;
      expect(tail.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < tail.length; i++) {
        expect(tail[i][0]).toBeLessThan(tail[i - 1][0]);
        expect(tail[i][1]).toBeLessThan(tail[i - 1][1]);
      }
    },
  );
});
