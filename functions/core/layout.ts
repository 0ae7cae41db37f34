/**
 * The one place that decides names: bucket names, object keys per profile, execution names.
 * Pure: no AWS imports.
 *
 * Profiles (frame sampling and key layout):
 * - `cse546-p2`: the original project's part 2. One frame at t=0, stage-1 key `<stem>.jpg` (flat).
 * - `cse546-p1`: its part 1. Ten frames, stage-1 keys `<stem>/output-00.jpg` … `output-09.jpg`.
 * - `default`:   N frames spread evenly over the video, keys `<stem>/frame-0000.jpg` ….
 * Outputs (all profiles): `<stem>.txt` (the name), `<stem>.json` (detail, when enabled).
 * Failure records `errors/<stem>.json`: in the output bucket (default profile), in the meta bucket
 * (cse546 profiles, whose graders read every object of the output and stage-1 buckets).
 * The meta bucket `<prefix>-meta` also holds the gallery (`gallery/gallery.json`): the course's
 * workload generator and `facerec workload --clear` empty the other three.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { isCourseProfile, isValidBucketName, type Profile } from './facts.js';

export interface BucketNames {
  input: string;
  stage1: string;
  output: string;
  /** The gallery and (cse546 profiles) failure records: nothing a grader or workload tool reads
   * or empties. */
  meta: string;
}

export function bucketNames(prefix: string): BucketNames {
  return {
    input: `${prefix}-input`,
    stage1: `${prefix}-stage-1`,
    output: `${prefix}-output`,
    meta: `${prefix}-meta`,
  };
}

/** An object in S3. */
export interface S3Ref {
  bucket: string;
  key: string;
}

/**
 * The one parser of S3 locations (a gallery, `-c gallery`, FACEREC_GALLERY): `s3://bucket/key`
 * -> its parts; undefined for anything that does not start with `s3://` (a file path); an error
 * for an `s3://` location without a valid bucket name and a key, rather than taking it for a file.
 */
export function parseS3Uri(uri: string): S3Ref | undefined {
  if (!uri.startsWith('s3://')) return undefined;
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (m && isValidBucketName(m[1])) return { bucket: m[1], key: m[2] };
  throw new Error(`Invalid S3 location ${uri}: expected s3://bucket/key`);
}

export function s3Uri(ref: S3Ref): string {
  return `s3://${ref.bucket}/${ref.key}`;
}

/** The prefix bucketNames was given (local mode names its functions and state machine with it). */
export function bucketPrefixOf(buckets: Pick<BucketNames, 'input'>): string {
  return buckets.input.replace(/-input$/, '');
}

/** Where the recognition function reads the gallery, in the meta bucket (`facerec gallery push`
 * writes it). */
export const GALLERY_KEY = 'gallery/gallery.json';

export function galleryLocation(buckets: Pick<BucketNames, 'meta'>): string {
  return s3Uri({ bucket: buckets.meta, key: GALLERY_KEY });
}

/** `videos/test_00.mp4` -> `videos/test_00`. The folder is kept so that two videos with the same
 * file name in different folders do not overwrite each other's outputs. */
export function videoStem(key: string): string {
  const ext = path.posix.extname(key);
  const base = path.posix.basename(key);
  // `.mp4` alone (a hidden file) has no stem to strip.
  return ext && ext !== base ? key.slice(0, -ext.length) : key;
}

/** Lower-case extension without the dot, '' when none. */
export function extensionOf(key: string): string {
  const base = path.posix.basename(key);
  const ext = path.posix.extname(base);
  return ext && ext !== base ? ext.slice(1).toLowerCase() : '';
}

/** S3's longest object key, in bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

/**
 * The longest addition a stem gets in a derived key: `/frame-99999.jpg` (16 bytes; stage-1 keys of
 * the default profile, up to FACEREC_MAX_FRAMES = 100,000 frames), `/output-00.jpg` (14),
 * `errors/` + `.json` (12), `.json` (5), `.txt` (4).
 */
const LONGEST_KEY_SUFFIX_BYTES = 16;

/** The longest stem that derived keys use as it is. */
export const MAX_KEY_STEM_BYTES = MAX_KEY_BYTES - LONGEST_KEY_SUFFIX_BYTES;

/**
 * The stem the derived keys (stage-1 frames, `<stem>.txt`, `<stem>.json`, `errors/<stem>.json`)
 * are built from: the video's stem, or, when a key made from it would pass S3's 1,024 bytes (an
 * input key of more than about 1,010 bytes), its first ~990 bytes (whole characters) + `~` + 16 hex
 * of the SHA-256 of the whole stem: every derived key fits, and two long keys that share their
 * first 990 bytes still get different outputs. `maxBytes`: the longest stem the caller can use
 * as it is (frameListKeys: less, for its longer suffixes).
 */
export function keyStem(stem: string, maxBytes = MAX_KEY_STEM_BYTES): string {
  if (Buffer.byteLength(stem) <= maxBytes) return stem;
  const hash = createHash('sha256').update(stem).digest('hex').slice(0, 16);
  const room = maxBytes - 1 - hash.length;
  let head = '';
  let bytes = 0;
  for (const ch of stem) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > room) break;
    head += ch;
    bytes += n;
  }
  return `${head}~${hash}`;
}

/** Longest frame file name written locally (file systems allow 255 bytes). */
const MAX_LOCAL_NAME_BYTES = 200;

/**
 * The local file name of the cse546-p2 frame: `<base name of the stem>.jpg` as in the original
 * command, shortened with a hash when the name would not fit the file system. (The stage-1 key
 * is made from the stem, never from this name.)
 */
function p2FrameFile(stem: string): string {
  const base = path.posix.basename(stem) || 'frame';
  if (Buffer.byteLength(base) + 4 <= MAX_LOCAL_NAME_BYTES && !base.startsWith('.')) return `${base}.jpg`;
  const hash = createHash('sha256').update(stem).digest('hex').slice(0, 16);
  const head = [...base.replace(/^\.+/, '')].reduce(
    (acc, ch) => (Buffer.byteLength(acc + ch) <= 100 ? acc + ch : acc),
    '',
  );
  return `${head}-${hash}.jpg`;
}

/** ffmpeg's output file name pattern for a profile (inside a per-video temp folder). `%` is
 * ffmpeg's pattern character: a literal one is written `%%`. */
export function frameFilePattern(profile: Profile, stem: string): string {
  switch (profile) {
    case 'cse546-p2':
      return p2FrameFile(stem).replace(/%/g, '%%');
    case 'cse546-p1':
      return 'output-%02d.jpg';
    default:
      return 'frame-%04d.jpg';
  }
}

/** The stage-1 key of a frame file written by ffmpeg (`fileName` is the file's base name). */
export function frameKey(profile: Profile, stem: string, fileName: string): string {
  switch (profile) {
    case 'cse546-p2':
      return `${keyStem(stem)}.jpg`;
    default:
      return `${keyStem(stem)}/${fileName}`;
  }
}

/** The file name of the i-th frame (0-based) for profiles that number their frames. */
export function frameFileName(profile: Profile, stem: string, index: number): string {
  switch (profile) {
    case 'cse546-p2':
      return p2FrameFile(stem);
    case 'cse546-p1':
      return `output-${String(index).padStart(2, '0')}.jpg`;
    default:
      return `frame-${String(index).padStart(4, '0')}.jpg`;
  }
}

/**
 * A long video's lists in the stage-1 bucket, beside its frames (default profile only): the frame
 * list the Distributed Map reads (its ItemReader's JSON array of `{ key, timeSec }`, which the
 * result function reads for the times too), one list per extracted segment, and the prefix where
 * the Distributed Map's ResultWriter puts the child executions' results. Built from the stem
 * shortened as keyStem does, for their longer suffixes (issue 21: no derived key passes 1,024
 * bytes; a stem of more than 944 bytes gets them under its shortened form).
 */
export function frameListKeys(fullStem: string): {
  list: string;
  segment: (i: number) => string;
  results: string;
} {
  // Beside the frames; a stem too long for the ResultWriter's keys is shortened as keyStem does
  // (a 1,024-byte input key: S3 refused its segment lists, KeyTooLongError).
  const s = keyStem(fullStem, MAX_KEY_BYTES - LONGEST_LIST_KEY_SUFFIX_BYTES);
  return {
    list: `${s}/frames.json`,
    segment: (i) => `${s}/segments/segment-${String(i).padStart(4, '0')}.json`,
    results: `${s}/map-run`,
  };
}

/**
 * The longest addition to a stem in those keys: the ResultWriter's
 * `/map-run/<map run id, 36>/SUCCEEDED_<n>.json` (69 bytes with an 8-digit n), then
 * `/segments/segment-<n>.json` (27-28), `/frames.json` (12); with room to spare.
 */
const LONGEST_LIST_KEY_SUFFIX_BYTES = 80;

/** Those keys for any video, as IAM resource patterns (the CDK stack grants exactly these). */
export const FRAME_LIST_PATTERNS = {
  list: '*/frames.json',
  segments: '*/segments/*',
  results: '*/map-run/*',
} as const;

export interface OutputKeys {
  /** Whole content: the chosen name (what the original graders read). */
  text: string;
  /** JSON detail: frames, faces, timings, model and gallery ids. */
  detail: string;
  /** Failure record. */
  error: string;
}

export const ERRORS_PREFIX = 'errors/';

/** The output keys of a video's stem (shortened by keyStem when they would pass 1,024 bytes). */
export function outputKeys(stem: string): OutputKeys {
  const s = keyStem(stem);
  return { text: `${s}.txt`, detail: `${s}.json`, error: `${ERRORS_PREFIX}${s}.json` };
}

/** Which bucket holds failure records (`errors/<stem>.json`) in a profile. The cse546 graders
 * list every object of the output bucket (part 2) and of the stage-1 bucket (part 1) and read
 * each as a result, so those profiles keep failure records in the meta bucket. */
export function failureRecordBucket(profile: Profile, buckets: BucketNames): string {
  return buckets[failureRecordBucketRole(profile)];
}

/** Which of the buckets (by role) holds failure records in a profile (the CDK stack grants it). */
export function failureRecordBucketRole(profile: Profile): 'meta' | 'output' {
  return isCourseProfile(profile) ? 'meta' : 'output';
}

/** The failure record of a video: bucket and key. */
export function failureRecordRef(
  profile: Profile,
  buckets: BucketNames,
  stem: string,
): { bucket: string; key: string } {
  return { bucket: failureRecordBucket(profile, buckets), key: outputKeys(stem).error };
}

/** Identity of one uploaded object version, as an S3 event reports it. */
export interface ObjectVersion {
  bucket: string;
  key: string;
  versionId?: string;
  etag?: string;
  sequencer?: string;
}

/**
 * Step Functions execution name of a video upload: the same for a redelivered event (so a
 * Standard workflow refuses to start it twice), different for a new upload of the same key.
 * Readable prefix (the sanitized stem) + a hash of bucket, key, version, etag and sequencer.
 * Names are at most 80 characters of `[0-9A-Za-z_-]` (safe for CloudWatch logging too).
 */
export function executionName(o: ObjectVersion): string {
  const hash = createHash('sha256')
    .update([o.bucket, o.key, o.versionId ?? '', o.etag ?? '', o.sequencer ?? ''].join('\u0000'))
    .digest('hex')
    .slice(0, 20);
  const readable = path.posix
    .basename(videoStem(o.key))
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^0-9A-Za-z_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80 - hash.length - 1);
  return readable ? `${readable}-${hash}` : hash;
}

export const EXECUTION_NAME_PATTERN = /^[0-9A-Za-z_-]{1,80}$/;

/** S3 event notifications URL-encode object keys (form encoding: space as `+`). */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** The inverse of decodeEventKey, as S3 encodes keys in event records (local mode uses it to
 * produce the same events as AWS). */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, '/');
}

/** Is this key a video the pipeline should process (by extension)? */
export function isVideoKey(key: string, extensions: readonly string[]): boolean {
  if (key.endsWith('/')) return false;
  const ext = extensionOf(key);
  return ext !== '' && extensions.includes(ext);
}

/** Does a content type match an allow-list with `type/*` wildcards? An absent type passes (S3
 * stores `binary/octet-stream` or nothing when the uploader set none). */
export function isAllowedContentType(contentType: string | undefined, allowed: readonly string[]): boolean {
  if (!contentType) return true;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return allowed.some((a) => a === type || (a.endsWith('/*') && type.startsWith(a.slice(0, -1))));
}
