/**
 * What the console shows, read through the AWS SDK only (Step Functions ListExecutions,
 * DescribeExecution, GetExecutionHistory; S3 GetObject), so it works the same against the local
 * stack and a deployed pipeline. Everything returned here is meant for a page: no endpoint,
 * credential or function ARN; execution data is cut short; frames are read only from the
 * stage-1 bucket and results only from the output bucket, by keys the pipeline wrote.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import sharp from 'sharp';
import { isNotFound } from '../../functions/aws/errors.js';
import { galleryListing } from '../../functions/core/gallery/read.js';
import { AWS_REQUESTS_AT_ONCE, mapLimit } from '../../functions/core/concurrency.js';
import { annotateImage } from '../lib/annotate.js';
import { UNKNOWN } from '../../functions/core/faces/types.js';
import type { Profile } from '../../functions/core/facts.js';
import { failureRecordRef, videoStem, type BucketNames } from '../../functions/core/layout.js';
import { reasonOf } from '../lib/pipeline-run.js';
import { frameMarks, resultView, type ResultView } from './result-view.js';
import {
  catchTargets,
  definitionText,
  innerStates,
  readDefinition,
  stateGraph,
  type GraphScope,
} from './state-graph.js';
import {
  consoleEvents,
  eventDetails,
  iterationRuns,
  stateRuns,
  type ConsoleEvent,
  type IterationRun,
  type StateRun,
} from './state-status.js';

export interface ConsoleTarget {
  s3: S3Client;
  sfn?: SFNClient;
  buckets: BucketNames;
  /** Where failure records are (the meta bucket in the cse546 profiles); default `default`. */
  profile?: Profile;
  stateMachineArn?: string;
  /** One line for the page header: where the pipeline is (no endpoints with keys, no secrets). */
  description: string;
  /** The gallery the pipeline uses: `s3://bucket/key` (what `facerec gallery push` writes), or a
   * file. */
  gallery?: string;
  /** The folder the gallery was enrolled from (`people/<name>/*.jpg`), for the photos. */
  peopleDir?: string;
  /** Whether the pipeline still runs (a local stack: its process); absent: always. */
  alive?: () => boolean | Promise<boolean>;
}

export interface ExecutionRow {
  executionArn: string;
  name: string;
  status: string;
  startDate?: number;
  stopDate?: number;
  durationMs?: number;
  video?: string;
  /** The chosen name (succeeded executions; `<stem>.txt`). */
  recognized?: string;
  /** Everyone recognized, best first (the execution's output). */
  people?: string[];
  /** Faces that matched nobody, when the output says. */
  unknownFaces?: number;
  error?: string;
  reason?: string;
  redriveCount?: number;
}

export interface ExecutionsPage {
  executions: ExecutionRow[];
  /** Executions that match the status and the search. */
  total: number;
  page: number;
  pageSize: number;
  /** More executions exist than were listed (the listing stops at LIST_CAP). */
  truncated: boolean;
}

export interface ExecutionsQuery {
  status?: string;
  /** Part of the execution's name or of its video's key (case-insensitive). */
  search?: string;
  page?: number;
  pageSize?: number;
}

export interface ExecutionDetail extends ExecutionRow {
  states: Record<string, StateRun>;
  /** Each Map iteration's states (one iteration at a time in the graph). */
  iterations: IterationRun[];
  events: ConsoleEvent[];
  eventsTotal: number;
  /** States entered (each a transition). */
  transitions: number;
  redriveDate?: number;
  input?: string;
  output?: string;
  result?: ResultView;
  /** Why there is no result to show, when there is none. */
  resultNote?: string;
  errorRecordKey?: string;
  /** A failed video's failure record (`errors/<stem>.json`), as the result function wrote it. */
  errorRecord?: Record<string, unknown>;
}

interface GalleryRead {
  json: unknown;
  missing?: boolean;
  updatedAt?: number;
  etag?: string;
}

export interface GalleryView {
  /** Where the pipeline reads it: `s3://bucket/key`, or a file's name (not its folder). */
  source?: string;
  /** When it was last written (pushed), epoch ms. */
  updatedAt?: number;
  /** Its ETag. */
  version?: string;
  modelId?: string;
  people: Array<{ name: string; images: Array<{ file: string; photo: boolean }> }>;
  /** What the page should say about photos. */
  photosNote?: string;
  error?: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
const parse = (text: string | undefined): unknown => {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
};
const cut = (s: string | undefined, n: number) =>
  s && s.length > n ? `${s.slice(0, n)}… (${s.length} characters)` : s;

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
/** The most executions listed for one page of the list (search and paging need them all). */
const LIST_CAP = 10_000;
/** Execution input and output sent to a page (pretty-printed there). */
const MAX_IO = 256 * 1024;
/** An event's data in an execution's page; the whole event (to MAX_EVENT) when a row is opened. */
const EVENT_DATA = 2000;
const MAX_EVENT = 1024 * 1024;
const FRAME_WIDTH = 640;
const PHOTO_SIDE = 240;

/** A small cache: the oldest entry goes first. */
class Lru<V> {
  private map = new Map<string, V>();
  constructor(private max: number) {}
  get(k: string) {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V) {
    this.map.delete(k);
    this.map.set(k, v);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

export class ConsoleSource {
  private described = new Lru<DescribeExecutionCommandOutput>(2000);
  private results = new Lru<Promise<{ result?: ResultView; note?: string }>>(200);
  private frames = new Lru<Promise<Buffer>>(300);
  private histories = new Lru<HistoryEvent[]>(20);
  private listing = new Map<
    string,
    { at: number; items: Promise<{ items: ExecutionListItem[]; truncated: boolean }> }
  >();
  private definition = readDefinition();
  private catches = catchTargets(this.definition);
  private inner = innerStates(this.definition);

  constructor(readonly target: ConsoleTarget) {}

  /** The failure record of a video: bucket and key, as the result function writes it. */
  failureRecord(videoKey: string): { bucket: string; key: string } {
    return failureRecordRef(this.target.profile ?? 'default', this.target.buckets, videoStem(videoKey));
  }

  graph(): GraphScope {
    return stateGraph(this.definition);
  }

  /** The definition file (the one deployed; its `${…}` are filled in at deployment). */
  definitionText(): string {
    // Unquoted placeholders (the Map's MaxConcurrency) quoted, so that the page can parse it.
    return definitionText().replace(/(:\s*)\$\{(\w+)\}/g, '$1"${$2}"');
  }

  /** Whether the pipeline runs: a stopped local stack answers nothing any more. */
  async status(): Promise<{ running: boolean }> {
    try {
      return { running: this.target.alive ? await this.target.alive() : true };
    } catch {
      return { running: false };
    }
  }

  private requireSfn(): SFNClient {
    if (!this.target.sfn || !this.target.stateMachineArn)
      throw new Error(
        'no state machine to read executions from (set STATE_MACHINE_ARN or --state-machine-arn)',
      );
    return this.target.sfn;
  }

  /** DescribeExecution, cached once the execution has ended (it no longer changes). */
  private async describe(arn: string): Promise<DescribeExecutionCommandOutput> {
    const hit = this.described.get(arn);
    if (hit) return hit;
    const d = await this.requireSfn().send(new DescribeExecutionCommand({ executionArn: arn }));
    if (TERMINAL.has(d.status ?? '')) this.described.set(arn, d);
    return d;
  }

  private row(d: DescribeExecutionCommandOutput): ExecutionRow {
    const input = obj(parse(d.input));
    const output = obj(parse(d.output));
    const start = d.startDate?.getTime();
    const stop = d.stopDate?.getTime();
    return {
      executionArn: d.executionArn!,
      name: d.name ?? d.executionArn!.split(':').at(-1)!,
      status: d.status ?? '?',
      startDate: start,
      stopDate: stop,
      durationMs: start === undefined ? undefined : (stop ?? Date.now()) - start,
      video: typeof input?.key === 'string' ? input.key : undefined,
      recognized: typeof output?.name === 'string' ? output.name : undefined,
      ...peopleOf(output),
      ...(d.error ? { error: d.error, reason: cut(reasonOf(d.cause) ?? d.error, 500) } : {}),
      ...(d.redriveCount ? { redriveCount: d.redriveCount } : {}),
    };
  }

  /** The newest executions, described (the first page of the list). */
  async executions(limit = 100, status?: string): Promise<ExecutionRow[]> {
    return (await this.executionsPage({ status, pageSize: limit })).executions;
  }

  /** Every execution of the state machine (to LIST_CAP), newest first, listed at most once a
   * second per status filter. */
  private listAll(status?: string) {
    const key = status ?? '';
    const hit = this.listing.get(key);
    if (hit && Date.now() - hit.at < 1000) return hit.items;
    const sfn = this.requireSfn();
    const items = (async () => {
      const out: ExecutionListItem[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(
          new ListExecutionsCommand({
            stateMachineArn: this.target.stateMachineArn,
            maxResults: 1000,
            nextToken,
            ...(status ? { statusFilter: status as never } : {}),
          }),
        );
        out.push(...(page.executions ?? []));
        nextToken = page.nextToken;
      } while (nextToken && out.length < LIST_CAP);
      return { items: out.slice(0, LIST_CAP), truncated: !!nextToken || out.length > LIST_CAP };
    })();
    items.catch(() => this.listing.delete(key));
    this.listing.set(key, { at: Date.now(), items });
    return items;
  }

  /** One page of the list: by status, by a search in names and video keys, newest first. */
  async executionsPage(q: ExecutionsQuery = {}): Promise<ExecutionsPage> {
    const pageSize = Math.min(Math.max(1, q.pageSize ?? 50), 1000);
    const search = q.search?.trim().toLowerCase();
    const listed = await this.listAll(q.status);
    const truncated = listed.truncated;
    let items = listed.items;
    if (search) {
      // The name holds the video's stem; the key itself is in the input (described, then cached).
      const keyOf = (arn: string) => {
        const d = this.described.get(arn);
        const input = d ? obj(parse(d.input)) : undefined;
        return typeof input?.key === 'string' ? input.key.toLowerCase() : '';
      };
      items = items.filter(
        (e) => (e.name ?? '').toLowerCase().includes(search) || keyOf(e.executionArn!).includes(search),
      );
    }
    const pages = Math.max(1, Math.ceil(items.length / pageSize));
    const page = Math.min(Math.max(0, q.page ?? 0), pages - 1);
    const slice = items.slice(page * pageSize, (page + 1) * pageSize);
    const executions = await mapLimit(slice, AWS_REQUESTS_AT_ONCE, async (e) =>
      this.row(await this.describe(e.executionArn!)),
    );
    return { executions, total: items.length, page, pageSize, truncated };
  }

  /** The whole history; kept for ended executions (it no longer changes). */
  private async history(arn: string, ended: boolean): Promise<HistoryEvent[]> {
    const hit = this.histories.get(arn);
    if (hit) return hit;
    const events = await this.readHistory(arn);
    if (ended) this.histories.set(arn, events);
    return events;
  }

  private async readHistory(arn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.requireSfn().send(
        new GetExecutionHistoryCommand({
          executionArn: arn,
          maxResults: 1000,
          nextToken,
          includeExecutionData: true,
        }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken && events.length < 25_000);
    return events;
  }

  async execution(arn: string): Promise<ExecutionDetail> {
    const d = await this.describe(arn);
    const events = await this.history(arn, TERMINAL.has(d.status ?? ''));
    const row = this.row(d);
    const running = d.status === 'RUNNING';
    const shown = events.length > 5000 ? [...events.slice(0, 2500), ...events.slice(-2500)] : events;
    const opts = { executionRunning: running, catchTargets: this.catches };
    const detail: ExecutionDetail = {
      ...row,
      states: stateRuns(events, opts),
      iterations: iterationRuns(events, this.inner, opts),
      events: consoleEvents(shown, 300, { inner: this.inner, maxDetails: EVENT_DATA }),
      eventsTotal: events.length,
      transitions: events.filter((e) => e.stateEnteredEventDetails).length,
      ...(d.redriveDate ? { redriveDate: d.redriveDate.getTime() } : {}),
      input: cut(d.input, MAX_IO),
      output: cut(d.output, MAX_IO),
    };
    if (d.status === 'SUCCEEDED') {
      const r = await this.resultOf(arn, d);
      if (r.result) detail.result = r.result;
      if (r.note) detail.resultNote = r.note;
    } else if (running) {
      detail.resultNote = 'the execution is still running';
    } else if (row.video) {
      const record = this.failureRecord(row.video);
      detail.errorRecordKey = record.key;
      const body = obj(parse(await this.text(record.bucket, record.key).catch(() => undefined)));
      // A newer upload of the same key may have written its own record since: show it only if it is this execution's.
      if (body && (body.execution === undefined || body.execution === arn)) detail.errorRecord = body;
      detail.resultNote = `the execution ended ${d.status}: no result; the failure record is ${record.bucket}/${record.key}${
        body ? '' : ' (not there)'
      }`;
    }
    return detail;
  }

  /** One event of an execution's history, with its data (to MAX_EVENT characters). */
  async event(
    arn: string,
    id: number,
  ): Promise<{ id: number; type: string; details?: Record<string, unknown> }> {
    const d = await this.describe(arn);
    const events = await this.history(arn, TERMINAL.has(d.status ?? ''));
    const e = events.find((x) => x.id === id);
    if (!e) throw new NotFound(`no event ${id} in this execution`);
    return { id, type: e.type ?? '?', details: eventDetails(e, MAX_EVENT) };
  }

  /** The detail JSON of a succeeded execution (its output names it), from the output bucket. */
  private resultOf(arn: string, d: DescribeExecutionCommandOutput) {
    let p = this.results.get(arn);
    if (!p) {
      p = (async () => {
        const output = obj(parse(d.output));
        const input = obj(parse(d.input));
        const key = typeof input?.key === 'string' ? input.key : undefined;
        const name = typeof output?.name === 'string' ? output.name : undefined;
        const detailKey = typeof output?.detailKey === 'string' ? output.detailKey : undefined;
        if (!detailKey) {
          const view = resultView({ name, people: output?.people }, { key, name });
          return {
            result: view,
            note: 'this profile writes no detail JSON (only <stem>.txt): no frames to show',
          };
        }
        if (output?.bucket !== undefined && output.bucket !== this.target.buckets.output)
          return { note: `the result is in ${String(output.bucket)}, not this pipeline's output bucket` };
        const text = await this.text(this.target.buckets.output, detailKey);
        if (text === undefined) return { note: `${this.target.buckets.output}/${detailKey} is missing` };
        const json = parse(text);
        if (json === undefined) return { note: `${this.target.buckets.output}/${detailKey} is not JSON` };
        return { result: resultView(json, { key, name }) };
      })();
      p.catch(() => this.results.set(arn, undefined as never));
      this.results.set(arn, p);
    }
    return p;
  }

  async text(bucket: string, key: string): Promise<string | undefined> {
    const bytes = await this.bytes(bucket, key);
    return bytes && Buffer.from(bytes).toString('utf8');
  }

  async bytes(bucket: string, key: string): Promise<Uint8Array | undefined> {
    try {
      const res = await this.target.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** A frame of a result with its faces drawn (boxes, names, distances), as JPEG. */
  async annotatedFrame(result: ResultView, index: number): Promise<Buffer | undefined> {
    const frame = result.frames[index];
    if (!frame) return undefined;
    const cacheKey = `${this.target.buckets.stage1}\u0000${frame.key}\u0000${JSON.stringify(frame.faces)}`;
    let p = this.frames.get(cacheKey);
    if (!p) {
      p = (async () => {
        const bytes = await this.bytes(this.target.buckets.stage1, frame.key);
        if (!bytes) throw new FrameMissing(`${this.target.buckets.stage1}/${frame.key} is missing`);
        // Scaled down first, then drawn: the names stay legible at the size the page shows.
        const meta = await sharp(bytes).metadata();
        const oriented = (meta.orientation ?? 1) >= 5 ? meta.height : meta.width;
        const scale = oriented ? Math.min(1, FRAME_WIDTH / oriented) : 1;
        const small = await sharp(bytes)
          .rotate()
          .resize({ width: FRAME_WIDTH, withoutEnlargement: true })
          .jpeg({ quality: 92 })
          .toBuffer();
        const marks = frameMarks(frame, UNKNOWN).map((m) => ({
          ...m,
          box: {
            x: m.box.x * scale,
            y: m.box.y * scale,
            width: m.box.width * scale,
            height: m.box.height * scale,
          },
        }));
        return annotateImage(small, marks);
      })();
      p.catch(() => this.frames.set(cacheKey, undefined as never));
      this.frames.set(cacheKey, p);
    }
    try {
      return await p;
    } catch (err) {
      if (err instanceof FrameMissing) return undefined;
      throw err;
    }
  }

  async executionFrame(arn: string, index: number): Promise<Buffer | undefined> {
    const d = await this.describe(arn);
    if (d.status !== 'SUCCEEDED') return undefined;
    const { result } = await this.resultOf(arn, d);
    return result ? this.annotatedFrame(result, index) : undefined;
  }

  private galleryRead?: { at: number; read: Promise<GalleryRead> };

  /** The gallery the pipeline uses, read at most every 2 s (a page of photos asks for it per
   * photo): a push shows within that. */
  private galleryJson(): Promise<GalleryRead> {
    if (this.galleryRead && Date.now() - this.galleryRead.at < 2000) return this.galleryRead.read;
    const loc = this.target.gallery!;
    const read = (async (): Promise<GalleryRead> => {
      const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(loc);
      // JSON or a binary store (functions/core/gallery/read.ts): people and photo names either way.
      if (!m) return { json: galleryListing(await readFile(loc), loc) };
      try {
        const res = await this.target.s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
        const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
        return {
          json: galleryListing(bytes, loc),
          ...(res.LastModified ? { updatedAt: res.LastModified.getTime() } : {}),
          ...(res.ETag ? { etag: res.ETag.replace(/"/g, '') } : {}),
        };
      } catch (err) {
        if (isNotFound(err)) return { json: undefined, missing: true };
        throw err;
      }
    })();
    read.catch(() => (this.galleryRead = undefined));
    this.galleryRead = { at: Date.now(), read };
    return read;
  }

  /** Enrolled people; photos where the people folder still holds the enrolled files. */
  async gallery(): Promise<GalleryView> {
    if (!this.target.gallery)
      return { people: [], error: 'no gallery is configured (FACEREC_GALLERY or --gallery)' };
    const loc = this.target.gallery;
    const source = loc.startsWith('s3://') ? loc : path.basename(loc);
    let read: GalleryRead;
    try {
      read = await this.galleryJson();
    } catch (err) {
      return { source, people: [], error: `cannot read the gallery: ${(err as Error).message}` };
    }
    if (read.missing)
      return {
        source,
        people: [],
        error: `there is no gallery in ${loc} yet: every face is Unknown (facerec gallery push <file> puts one there)`,
      };
    const json = obj(read.json);
    const people = (Array.isArray(json?.people) ? json.people : []).flatMap((p: unknown, i: number) => {
      const o = obj(p);
      if (!o || typeof o.name !== 'string') return [];
      const images = (Array.isArray(o.images) ? o.images : []).map((im: unknown, j: number) => {
        const file = obj(im)?.file;
        return { file: typeof file === 'string' ? file : `image ${j + 1}`, photo: false, i, j };
      });
      return [{ name: o.name, images }];
    });
    let found = 0;
    if (this.target.peopleDir) {
      for (const [i, p] of people.entries()) {
        for (const [j, im] of p.images.entries()) {
          im.photo = (await this.photoFile(i, j, json)) !== undefined;
          if (im.photo) found++;
        }
      }
    }
    const total = people.reduce((n, p) => n + p.images.length, 0);
    const photosNote = !this.target.peopleDir
      ? 'The gallery file stores face descriptors and the enrolled file names only, not photos. Give the folder it was enrolled from (--people <folder>) to show them.'
      : found < total
        ? `${total - found} of ${total} enrolled images are not in ${path.basename(this.target.peopleDir)}/ as enrolled (missing or changed since).`
        : undefined;
    return {
      source,
      ...(read.updatedAt ? { updatedAt: read.updatedAt } : {}),
      ...(read.etag ? { version: read.etag } : {}),
      modelId: typeof json?.modelId === 'string' ? json.modelId : undefined,
      people: people.map((p) => ({
        name: p.name,
        images: p.images.map(({ file, photo }) => ({ file, photo })),
      })),
      ...(photosNote ? { photosNote } : {}),
    };
  }

  /** The enrolled file of a person's image, if the people folder holds it unchanged (same sha256)
   * and inside the folder (a gallery's file names are data, not paths to follow anywhere). */
  private async photoFile(i: number, j: number, json?: Obj): Promise<string | undefined> {
    if (!this.target.peopleDir) return undefined;
    json ??= obj((await this.galleryJson()).json);
    const person = obj((json?.people as unknown[] | undefined)?.[i]);
    const image = obj((person?.images as unknown[] | undefined)?.[j]);
    if (typeof image?.file !== 'string' || typeof image.sha256 !== 'string') return undefined;
    const root = path.resolve(this.target.peopleDir);
    const file = path.resolve(root, image.file);
    if (!file.startsWith(root + path.sep)) return undefined;
    try {
      const bytes = await readFile(file);
      return createHash('sha256').update(bytes).digest('hex') === image.sha256 ? file : undefined;
    } catch {
      return undefined;
    }
  }

  /** An enrolled photo, as a square JPEG thumbnail. */
  async galleryPhoto(i: number, j: number): Promise<Buffer | undefined> {
    const file = await this.photoFile(i, j).catch(() => undefined);
    if (!file) return undefined;
    return sharp(file)
      .rotate()
      .resize({ width: PHOTO_SIDE, height: PHOTO_SIDE, fit: 'cover' })
      .jpeg({ quality: 82 })
      .toBuffer();
  }
}

class FrameMissing extends Error {}

/** Something the page asked for that does not exist (the server answers 404). */
export class NotFound extends Error {}

/** Everyone the execution's output names, and the Unknown faces, as far as it says. */
function peopleOf(output: Obj | undefined): Pick<ExecutionRow, 'people' | 'unknownFaces'> {
  if (!output) return {};
  const people = (Array.isArray(output.people) ? output.people : [])
    .map((p) => (typeof p === 'string' ? p : obj(p)?.name))
    .filter((n): n is string => typeof n === 'string')
    .slice(0, 100);
  const unknown = output.unknownFaces;
  return {
    ...(people.length ? { people } : {}),
    ...(typeof unknown === 'number' ? { unknownFaces: unknown } : {}),
  };
}
