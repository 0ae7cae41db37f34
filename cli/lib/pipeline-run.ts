/**
 * Upload videos and follow their executions to the end: what `facerec run`, the demo and the
 * pipeline benchmark share. Talks to the pipeline through S3 and Step Functions only, so it works
 * the same against a stack in this process, one started by `facerec up`, or AWS.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { isNotFound } from '../../functions/aws/errors.js';
import { uploadFile } from '../../functions/aws/s3.js';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
} from '@aws-sdk/client-sfn';
import { AWS_REQUESTS_AT_ONCE, mapLimit } from '../../functions/core/concurrency.js';
import { ResultOutputSchema, VideoObjectSchema, type ResultOutput } from '../../functions/core/contracts.js';
import {
  extensionOf,
  failureRecordBucket,
  isVideoKey,
  MAX_KEY_BYTES,
  outputKeys,
  videoStem,
} from '../../functions/core/layout.js';
import { normalizeEtag } from '../../functions/core/upload-version.js';
import { UsageError } from './errors.js';
import { profileOf, type PipelineTarget } from './target.js';

export interface VideoFile {
  file: string;
  key: string;
  bytes: number;
}

type Outcome = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'NOT_STARTED' | 'RUNNING';

export interface VideoResult {
  video: string;
  key: string;
  status: Outcome;
  name?: string;
  faces?: number;
  frames?: number;
  /** Execution duration. */
  seconds?: number;
  executionArn?: string;
  error?: string;
  reason?: string;
  outputKey?: string;
  detailKey?: string;
  errorKey?: string;
  /** The bucket of errorKey (layout.failureRecordBucket). */
  errorBucket?: string;
  result?: ResultOutput;
}

export interface RunReport {
  results: VideoResult[];
  firstUploadAt: number;
  uploadedAt: number;
  lastDoneAt: number;
  /** First upload started -> last execution ended. */
  wallSeconds: number;
  target: PipelineTarget;
}

const CONTENT_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/x-m4v',
  mov: 'video/quicktime',
  avi: 'video/x-msvideo',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
  mpg: 'video/mpeg',
  mpeg: 'video/mpeg',
  '3gp': 'video/3gpp',
  wmv: 'video/x-ms-wmv',
  flv: 'video/x-flv',
  ts: 'video/mp2t',
};

export function contentTypeOf(key: string): string {
  return CONTENT_TYPES[extensionOf(key)] ?? 'application/octet-stream';
}

/** Files and folders -> videos with their keys: a file's key is its name, a folder's videos keep
 * their path inside the folder. */
export async function collectVideos(
  inputs: string[],
  extensions: readonly string[],
  prefix = '',
): Promise<VideoFile[]> {
  const out: VideoFile[] = [];
  const walk = async (dir: string, rel: string) => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      const key = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(full, key);
      else if (e.isFile() && isVideoKey(key, extensions))
        out.push({ file: full, key: prefix + key, bytes: (await stat(full)).size });
    }
  };
  for (const input of inputs) {
    const s = await stat(input).catch(() => undefined);
    if (!s) throw new UsageError(`${input}: no such file or folder`);
    if (s.isDirectory()) await walk(input, '');
    else if (!isVideoKey(input, extensions))
      throw new UsageError(`${input}: not a video by its extension (accepted: ${extensions.join(', ')})`);
    // A FIFO or a device would be read until something writes to it, or forever.
    else if (!s.isFile()) throw new UsageError(`${input}: not a regular file`);
    else out.push({ file: input, key: prefix + path.basename(input), bytes: s.size });
  }
  const seen = new Map<string, string>();
  const stems = new Map<string, string>();
  for (const v of out) {
    const other = seen.get(v.key);
    if (other) throw new UsageError(`${v.file} and ${other} would both be uploaded as ${v.key}`);
    seen.set(v.key, v.file);
    if (Buffer.byteLength(v.key) > MAX_KEY_BYTES)
      throw new UsageError(
        `${v.file}: its key would be ${Buffer.byteLength(v.key)} bytes; S3 keys hold ${MAX_KEY_BYTES} at most`,
      );
    // Outputs are named by the stem (<stem>.txt): talk.mp4 and talk.mov would answer in one file.
    const stem = videoStem(v.key);
    const sameStem = stems.get(stem);
    if (sameStem)
      throw new UsageError(`${v.file} and ${sameStem} would both be answered as ${stem}.txt: rename one`);
    stems.set(stem, v.file);
  }
  return out;
}

export interface RunOptions {
  videos: VideoFile[];
  target: PipelineTarget;
  /** Give up on executions after this long. */
  timeoutSec: number;
  uploadConcurrency?: number;
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  total: number;
  uploaded: number;
  started: number;
  running: number;
  succeeded: number;
  failed: number;
  elapsedMs: number;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
/** Executions started this long before the run are not ours (clocks of client and server differ). */
const CLOCK_SLACK_MS = 5000;

/** One video of a run: its file, its upload, and what its execution came to. */
interface RunEntry {
  v: VideoFile;
  etag?: string;
  uploadedAt?: number;
  result: VideoResult;
}

function progressOf(entries: readonly RunEntry[], t0: number): Progress {
  const rs = entries.map((x) => x.result);
  return {
    total: rs.length,
    uploaded: entries.filter((x) => x.uploadedAt).length,
    started: rs.filter((r) => r.executionArn).length,
    running: rs.filter((r) => r.status === 'RUNNING').length,
    succeeded: rs.filter((r) => r.status === 'SUCCEEDED').length,
    failed: rs.filter((r) => r.executionArn && TERMINAL.has(r.status) && r.status !== 'SUCCEEDED').length,
    elapsedMs: Date.now() - t0,
  };
}

/** What an ended execution says of its video: the name and counts, or the error and where its
 * failure record is. Returns the execution's stop time (undefined while it runs). */
function recordOutcome(
  r: VideoResult,
  d: DescribeExecutionCommandOutput,
  target: PipelineTarget,
): number | undefined {
  r.status = (d.status as Outcome) ?? 'RUNNING';
  if (!TERMINAL.has(r.status)) return undefined;
  const stop = d.stopDate?.getTime() ?? Date.now();
  r.seconds = (stop - (d.startDate?.getTime() ?? stop)) / 1000;
  if (r.status === 'SUCCEEDED') {
    const out = ResultOutputSchema.safeParse(JSON.parse(d.output ?? 'null'));
    if (out.success) {
      Object.assign(r, {
        name: out.data.name,
        faces: out.data.faces,
        frames: out.data.frames,
        outputKey: out.data.outputKey,
        detailKey: out.data.detailKey,
        result: out.data,
      });
    }
  } else {
    r.error = d.error;
    r.reason = reasonOf(d.cause) ?? d.error;
    r.errorKey = outputKeys(videoStem(r.key)).error;
    r.errorBucket = failureRecordBucket(profileOf(target), target.buckets);
  }
  return stop;
}

/** The state machine's executions started since `t0` (newest first, every page until older ones). */
async function executionsSince(target: PipelineTarget, t0: number): Promise<ExecutionListItem[]> {
  const fresh: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await target.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: target.stateMachineArn, maxResults: 1000, nextToken }),
    );
    const items = page.executions ?? [];
    fresh.push(...items);
    nextToken = page.nextToken;
    if (items.some((e) => (e.startDate?.getTime() ?? 0) < t0 - CLOCK_SLACK_MS)) break;
  } while (nextToken);
  return fresh;
}

/** Upload each video to the input bucket, recording its ETag (which execution is of this upload). */
function uploadVideos(o: RunOptions, byKey: ReadonlyMap<string, RunEntry>, onUploaded: () => void) {
  const { target } = o;
  return mapLimit(o.videos, o.uploadConcurrency ?? AWS_REQUESTS_AT_ONCE, async (v) => {
    const entry = byKey.get(v.key)!;
    const res = await uploadFile(target.s3, {
      bucket: target.buckets.input,
      key: v.key,
      file: v.file,
      bytes: v.bytes,
      contentType: contentTypeOf(v.key),
    });
    entry.etag = normalizeEtag(res.ETag);
    entry.uploadedAt = Date.now();
    onUploaded();
  });
}

/** Upload the videos and follow their executions (matched by input key and ETag) to the end, or
 * until the timeout. */
export async function runVideos(o: RunOptions): Promise<RunReport> {
  const { target } = o;
  const t0 = Date.now();
  const byKey = new Map<string, RunEntry>();
  for (const v of o.videos)
    byKey.set(v.key, { v, result: { video: v.file, key: v.key, status: 'NOT_STARTED' } });
  const entries = () => [...byKey.values()];
  const progress = () => progressOf(entries(), t0);

  // Follow executions while uploading: the first ones finish before the last upload.
  const seen = new Map<string, string | null>(); // executionArn -> key (null: not ours)
  let lastDoneAt = t0;
  let uploadsDone = false;
  const describe = async (arn: string) =>
    target.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  const settle = async (arn: string, key: string) => {
    const stop = recordOutcome(byKey.get(key)!.result, await describe(arn), target);
    if (stop !== undefined) lastDoneAt = Math.max(lastDoneAt, stop);
  };
  /** A new execution: ours if its input is one of our uploads (this version of it). */
  const adopt = async (arn: string) => {
    const d = await describe(arn);
    const input = VideoObjectSchema.safeParse(JSON.parse(d.input ?? 'null'));
    const entry = input.success ? byKey.get(input.data.key) : undefined;
    if (
      !entry ||
      input.data?.bucket !== target.buckets.input ||
      (entry.etag && input.data.etag !== entry.etag)
    ) {
      seen.set(arn, null);
      return;
    }
    seen.set(arn, entry.v.key);
    entry.result.executionArn = arn;
    entry.result.status = 'RUNNING';
    if (TERMINAL.has(d.status ?? '')) await settle(arn, entry.v.key);
  };
  const poll = async () => {
    const work: Array<Promise<void>> = [];
    for (const e of await executionsSince(target, t0)) {
      const arn = e.executionArn!;
      const known = seen.get(arn);
      if (known === null) continue;
      if (known === undefined) {
        if ((e.startDate?.getTime() ?? 0) < t0 - CLOCK_SLACK_MS) seen.set(arn, null);
        else work.push(adopt(arn));
      } else if (TERMINAL.has(e.status ?? '') && !TERMINAL.has(byKey.get(known)!.result.status)) {
        work.push(settle(arn, known));
      }
    }
    await Promise.all(work);
  };

  const uploading = uploadVideos(o, byKey, () => o.onProgress?.(progress())).finally(
    () => (uploadsDone = true),
  );
  const deadline = t0 + o.timeoutSec * 1000;
  let uploadError: unknown;
  uploading.catch((err: unknown) => (uploadError = err));
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    if (uploadError) throw uploadError;
    await poll();
    o.onProgress?.(progress());
    if (uploadsDone && entries().every((x) => TERMINAL.has(x.result.status))) break;
    if (Date.now() > deadline) {
      for (const x of entries())
        if (x.result.status === 'RUNNING') x.result.reason = `still running after ${o.timeoutSec} s`;
      break;
    }
  }
  await uploading;
  const uploadedAt = Math.max(...entries().map((x) => x.uploadedAt ?? t0));
  return {
    results: entries().map((x) => x.result),
    firstUploadAt: t0,
    uploadedAt,
    lastDoneAt,
    wallSeconds: (lastDoneAt - t0) / 1000,
    target,
  };
}

/** The message of a Lambda error cause (`{"errorType","errorMessage"}`), else the cause. */
export function reasonOf(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed.errorMessage) return parsed.errorMessage;
  } catch {
    /* not JSON */
  }
  return cause;
}

/** Where an output's key goes under `dir`: its folders as folders, but never outside `dir` (a key
 * is any string: `../../x.txt` from a `--key-prefix ../../`). The segments that could lead out,
 * `.`, `..` and empty ones, are written as `%2E`, `%2E%2E` and `%2F`; no other segment holds a `/`. */
export function localPathOf(dir: string, key: string): string {
  const segments = key
    .split('/')
    .map((s) => (s === '' ? '%2F' : s === '.' || s === '..' ? s.replace(/\./g, '%2E') : s));
  return path.join(dir, ...segments);
}

/** Copy each video's outputs (`.txt`, `.json`, error record) into a folder. */
export async function downloadOutputs(report: RunReport, dir: string): Promise<string[]> {
  const written: string[] = [];
  const output = report.target.buckets.output;
  const keys = report.results.flatMap((r) => [
    ...[r.outputKey, r.detailKey].filter((k): k is string => !!k).map((key) => ({ bucket: output, key })),
    ...(r.errorKey ? [{ bucket: r.errorBucket ?? output, key: r.errorKey }] : []),
  ]);
  await mapLimit(keys, AWS_REQUESTS_AT_ONCE, async ({ bucket, key }) => {
    try {
      const res = await report.target.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const file = localPathOf(dir, key);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, await res.Body!.transformToByteArray());
      written.push(file);
    } catch (err) {
      // An error record may not exist (e.g. the execution was aborted); a folder that cannot be
      // written is said, not counted as nothing to copy.
      if (!isNotFound(err)) throw err;
    }
  });
  return written.sort();
}
