/**
 * Which gallery a local stack's recognition function reads, and a warning when it holds nobody:
 * `run`, `up` and `workload` say so before any video goes through (every face would come out
 * `Unknown`). The stack reads the `--gallery` file it pushed to its meta bucket, or, given none,
 * whatever gallery the meta bucket holds (the one pushed last by a stack or `facerec gallery
 * push`: it stays in the local data folder), or an `s3://` location given as FACEREC_GALLERY.
 */
import { isNotFound } from '../../functions/aws/errors.js';
import { galleryLocation, parseS3Uri } from '../../functions/core/layout.js';
import { printable } from '../../functions/core/printable.js';
import { readText } from './s3-objects.js';
import type { Target } from './target.js';

export interface GalleryCheck {
  /** Where the functions read it. */
  location: string;
  /** People enrolled (0 when the gallery is missing or unreadable). */
  people: number;
  /** One line for the terminal: what the gallery holds, or the warning. */
  line: string;
  warning: boolean;
}

const HOW =
  'make one with `facerec enroll <people-folder> --gallery gallery.json`, then pass --gallery gallery.json ' +
  '(or `facerec gallery push gallery.json` while the stack runs)';

/** The gallery of a local target (undefined for AWS and other endpoints: their gallery is a
 * deployment setting this command cannot see). */
export async function checkLocalGallery(target: Target): Promise<GalleryCheck | undefined> {
  if (target.kind !== 'local' || !target.local) return undefined;
  const given = target.local.gallery;
  const location = given && parseS3Uri(given) ? given : galleryLocation(target.buckets);
  const ref = parseS3Uri(location)!;
  const from = given && !parseS3Uri(given) ? ` (from ${printable(given)})` : '';
  let text: string;
  try {
    text = await readText(target.s3, ref.bucket, ref.key);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return {
      location,
      people: 0,
      warning: true,
      line: `warning: no gallery at ${location}: every face will be Unknown; ${HOW}`,
    };
  }
  let people: number;
  try {
    const json = JSON.parse(text) as { people?: unknown };
    people = Array.isArray(json.people) ? json.people.length : 0;
  } catch {
    return {
      location,
      people: 0,
      warning: true,
      line: `warning: the gallery at ${location} is not JSON: every video will fail to recognize faces; ${HOW}`,
    };
  }
  if (people === 0) {
    return {
      location,
      people,
      warning: true,
      line: `warning: the gallery at ${location}${from} has no one enrolled: every face will be Unknown; ${HOW}`,
    };
  }
  return {
    location,
    people,
    warning: false,
    line: `gallery: ${people} ${people === 1 ? 'person' : 'people'} (${location}${from})`,
  };
}
