/**
 * After the Distributed Map, the batch results are not in the state (it holds only where its
 * ResultWriter put them: `{ MapRunArn, ResultWriterDetails: { Bucket, Key } }`). This reads them
 * back as the inline Map would have passed them: the manifest, then every results file (one entry
 * per child execution: its input, status and output), in frame order, with each frame's time from
 * the splitter's frame index. A child execution that failed (or never ran) is a failed batch of
 * its frames, as the inline Map's per-item Catch records one.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  BatchOutcomeSchema,
  type BatchOutcome,
  type MapRunResultInput,
  type ResultInput,
} from '../core/contracts.js';
import { getBytes } from './s3.js';
import { ERROR_NAMES } from '../core/facts.js';

/** The manifest.json a ResultWriter writes next to its results files. */
interface Manifest {
  DestinationBucket?: string;
  MapRunArn?: string;
  ResultFiles?: Partial<Record<'SUCCEEDED' | 'FAILED' | 'PENDING', Array<{ Key: string; Size?: number }>>>;
}

/** One child execution in a results file. */
interface ChildResult {
  Status?: string;
  Input?: string;
  Output?: string;
  Error?: string;
  Cause?: string;
}

async function readJson<T>(s3: S3Client, bucket: string, key: string): Promise<T> {
  const bytes = await getBytes(s3, { bucket, key });
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}

/** The frame keys a child execution was given (`{ Items: [{ key, timeSec }…], BatchInput }`). */
function keysOf(input: string | undefined): string[] {
  try {
    const parsed = JSON.parse(input ?? '{}') as { Items?: unknown };
    if (!Array.isArray(parsed.Items)) return [];
    return parsed.Items.map((item: unknown) => (item as { key?: unknown } | null)?.key).filter(
      (k): k is string => typeof k === 'string',
    );
  } catch {
    return [];
  }
}

/** A child execution's entry -> the batch outcome the result function reads. */
function batchOf(child: ChildResult, status: string): BatchOutcome {
  const keys = keysOf(child.Input);
  if (status === 'SUCCEEDED' && child.Output !== undefined) {
    const parsed = BatchOutcomeSchema.safeParse(JSON.parse(child.Output));
    if (parsed.success) return parsed.data;
    return {
      keys,
      failed: true,
      error: ERROR_NAMES.Internal,
      cause: 'a child execution returned no batch result',
    };
  }
  return {
    keys,
    failed: true,
    error: child.Error ?? (status === 'PENDING' ? 'States.NotRun' : 'States.ChildExecutionFailed'),
    ...(child.Cause ? { cause: child.Cause } : {}),
  };
}

/** The frame keys of a batch outcome. */
const batchKeys = (b: BatchOutcome) => ('failed' in b ? b.keys : b.frames.map((f) => f.key));

/**
 * The result task's input with the Map Run's results read from S3 (and the frame times from the
 * splitter's index); an input from the inline Map is returned as it is.
 */
export async function withMapRunResults(
  s3: S3Client,
  event: ResultInput | MapRunResultInput,
): Promise<ResultInput> {
  if (Array.isArray(event.batches)) return event as ResultInput;
  const where = event.batches.ResultWriterDetails;
  const manifest = await readJson<Manifest>(s3, where.Bucket, where.Key);
  const bucket = manifest.DestinationBucket ?? where.Bucket;
  const batches: BatchOutcome[] = [];
  for (const status of ['SUCCEEDED', 'FAILED', 'PENDING'] as const) {
    for (const file of manifest.ResultFiles?.[status] ?? []) {
      const children = await readJson<ChildResult[]>(s3, bucket, file.Key);
      for (const child of children) batches.push(batchOf(child, child.Status ?? status));
    }
  }
  const index = event.split?.frameIndex
    ? await readJson<Array<{ key: string; timeSec: number | null }>>(
        s3,
        event.split.frameIndex.bucket,
        event.split.frameIndex.key,
      )
    : [];
  const position = new Map(index.map((f, i) => [f.key, i]));
  const timeOf = new Map(index.map((f) => [f.key, f.timeSec]));
  const first = (b: BatchOutcome) => position.get(batchKeys(b)[0] ?? '') ?? Number.MAX_SAFE_INTEGER;
  batches.sort((a, b) => first(a) - first(b));
  const keys = batches.flatMap(batchKeys);
  return {
    ...event,
    batches,
    ...(event.split
      ? { split: { ...event.split, frameTimesSec: keys.map((k) => timeOf.get(k) ?? null) } }
      : {}),
  };
}
