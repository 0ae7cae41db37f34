/** Nearest-neighbour identification against a gallery (Euclidean distance, dlib's metric; or
 * cosine distance for L2-normalised descriptors). */
import type { Gallery } from '../gallery.js';
import type { DescriptorMetric } from './describe.js';
import { UNKNOWN } from './types.js';

interface GalleryIndex {
  names: string[];
  owner: Int32Array;
  descriptors: Float32Array;
  size: number;
}

const indexes = new WeakMap<Gallery, GalleryIndex>();

/** Flatten the gallery once; a warm container matches many frames against the same one. */
function indexOf(gallery: Gallery): GalleryIndex {
  let index = indexes.get(gallery);
  if (!index) {
    const size = gallery.descriptorSize;
    const rows = gallery.people.flatMap((p, pi) => p.images.map((img) => ({ pi, d: img.descriptor })));
    const descriptors = new Float32Array(rows.length * size);
    const owner = new Int32Array(rows.length);
    rows.forEach((r, i) => {
      descriptors.set(r.d, i * size);
      owner[i] = r.pi;
    });
    index = { names: gallery.people.map((p) => p.name), owner, descriptors, size };
    indexes.set(gallery, index);
  }
  return index;
}

export interface Match {
  name: string;
  distance: number | null;
  /** The nearest person even when beyond the threshold (useful for diagnostics). */
  nearest: string | null;
}

/** Squared Euclidean distance -> the metric's distance (for unit vectors, 1 - cos = |a-b|^2 / 2). */
export const fromSquared = (metric: DescriptorMetric, sum: number) =>
  metric === 'cosine' ? sum / 2 : Math.sqrt(sum);

export function matchDescriptor(
  gallery: Gallery,
  descriptor: ArrayLike<number>,
  threshold: number,
  metric: DescriptorMetric = 'euclidean',
): Match {
  const { names, owner, descriptors, size } = indexOf(gallery);
  let best = Infinity;
  let bestOwner = -1;
  for (let r = 0; r < owner.length; r++) {
    let sum = 0;
    const o = r * size;
    for (let j = 0; j < size; j++) {
      const d = descriptors[o + j] - descriptor[j];
      sum += d * d;
    }
    if (sum < best) {
      best = sum;
      bestOwner = owner[r];
    }
  }
  if (bestOwner < 0) return { name: UNKNOWN, distance: null, nearest: null };
  const distance = fromSquared(metric, best);
  const nearest = names[bestOwner];
  return { name: distance <= threshold ? nearest : UNKNOWN, distance, nearest };
}
