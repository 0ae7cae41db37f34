import { DEFAULT_DETECT_OPTIONS } from '#functions/core/faces/detection-passes.js';
import { agreedAcrossScales, fallbackScales } from '#functions/core/faces/multi-scale-fallback.js';

describe('fallbackScales', () => {
  it('steps by sqrt(2) from the coarse scale, skips the fine scale and stops at the fine limits', () => {
    // 854x480: coarse 0.3747, fine 0.5; 0.53 repeats the fine pass; 1.5 is under 1 MP.
    expect(fallbackScales(854, 480, DEFAULT_DETECT_OPTIONS).map((s) => +s.toFixed(2))).toEqual([
      0.75, 1.06, 1.5,
    ]);
    // 1920x1080: coarse 1/6, fine 0.5; 0.471 repeats it; 1 MP allows 0.694.
    expect(fallbackScales(1920, 1080, DEFAULT_DETECT_OPTIONS).map((s) => +s.toFixed(3))).toEqual([
      0.236, 0.333, 0.667,
    ]);
  });

  it('never enlarges beyond maxUpscale', () => {
    expect(Math.max(...fallbackScales(200, 150, DEFAULT_DETECT_OPTIONS))).toBeLessThanOrEqual(2);
  });
});

describe('agreedAcrossScales', () => {
  const face = (x: number, score: number) => ({ box: { x, y: 100, width: 100, height: 120 }, score });

  it('keeps a face that enough scales found, once, with its best box', () => {
    const kept = agreedAcrossScales(
      [
        { scale: 0.4, found: [face(100, 0.8)] },
        { scale: 0.6, found: [face(104, 0.99)] },
        { scale: 0.8, found: [face(98, 0.9)] },
      ],
      3,
      0.4,
    );
    expect(kept).toEqual([face(104, 0.99)]);
  });

  it('counts a scale once however many boxes it has on the face', () => {
    const kept = agreedAcrossScales(
      [
        { scale: 0.4, found: [face(100, 0.8), face(102, 0.85), face(96, 0.8)] },
        { scale: 0.6, found: [face(104, 0.99)] },
        { scale: 0.8, found: [face(600, 0.9)] },
      ],
      3,
      0.4,
    );
    expect(kept).toEqual([]);
  });
});
