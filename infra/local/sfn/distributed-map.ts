/**
 * Distributed Map states in local mode. The aws-local-stepfunctions interpreter runs a Map in
 * DISTRIBUTED mode as an inline one and ignores its ItemReader, ItemBatcher and ResultWriter; this
 * module does what Step Functions does with them:
 *
 * - ItemReader: the items from an S3 object (JSON array, JSON Lines) or an S3 listing
 *   (`s3:listObjectsV2`), through the local S3 server, with `MaxItems`;
 * - ItemSelector per item (`$$.Map.Item.Index` and `.Value`), ItemBatcher (`MaxItemsPerBatch`,
 *   `MaxInputBytesPerBatch`, their `…Path` forms, `BatchInput`): `{ Items, BatchInput }` per batch;
 * - one child execution per item or batch: the ItemProcessor run by the interpreter as its own
 *   execution (its own ARN and context), MaxConcurrency at a time, its Task states bound to the
 *   same local functions as the parent's (so back-pressure, cancellation and the journal's resume
 *   apply to them too);
 * - ToleratedFailurePercentage / ToleratedFailureCount (and their paths);
 * - ResultWriter: `SUCCEEDED_n.json`, `FAILED_n.json`, `PENDING_n.json` and `manifest.json`
 *   under `<Prefix>/<map run id>/` in the local S3, and the state's result
 *   `{ MapRunArn, ResultWriterDetails: { Bucket, Key } }` (without a ResultWriter: the children's
 *   outputs, in item order);
 * - the parent's history: MapStateEntered/Exited, MapRunStarted, MapRunSucceeded or MapRunFailed
 *   (the children's events are not in it, as on AWS).
 *
 * How: the interpreter runs a copy of the definition where each Distributed Map is a Task whose
 * Parameters let the interpreter evaluate what the Map's fields reference (`$` and `$$`); the Task
 * is answered by this module (`handlers`), and its interpreter events are recorded as the Map's
 * (`asMapEvent`).
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { jsonBytes } from '../../../functions/core/batches.js';
import { STATE_PAYLOAD_LIMIT } from '../../../functions/core/facts.js';
import { causeText, type InterpreterEvent } from './history.js';
import type { RecordedEvent } from './records.js';
import { withoutInterpreterTimers } from './task-states.js';

/** The Resource of the Task that stands for a Distributed Map in the interpreter's definition. */
const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::facerec-local:distributedMap';

/** Step Functions' default batch size limit: a child execution's input, the state payload limit. */
const DEFAULT_MAX_INPUT_BYTES_PER_BATCH = STATE_PAYLOAD_LIMIT;
/** Children at once when MaxConcurrency is 0 (AWS allows up to 10,000; one machine cannot). */
const LOCAL_MAX_CHILDREN = 40;

interface MapState {
  Type: 'Map';
  Comment?: string;
  InputPath?: string | null;
  ItemsPath?: string;
  ItemSelector?: unknown;
  Parameters?: unknown;
  ItemReader?: {
    Resource: string;
    Parameters?: Record<string, unknown>;
    ReaderConfig?: { InputType?: string; MaxItems?: number; MaxItemsPath?: string; [k: string]: unknown };
  };
  ItemBatcher?: {
    MaxItemsPerBatch?: number;
    MaxItemsPerBatchPath?: string;
    MaxInputBytesPerBatch?: number;
    MaxInputBytesPerBatchPath?: string;
    BatchInput?: unknown;
  };
  ItemProcessor: {
    ProcessorConfig?: { Mode?: string; ExecutionType?: string };
    StartAt: string;
    States: Record<string, unknown>;
  };
  ResultWriter?: { Resource?: string; Parameters?: Record<string, unknown>; WriterConfig?: unknown };
  MaxConcurrency?: number;
  MaxConcurrencyPath?: string;
  ToleratedFailurePercentage?: number;
  ToleratedFailurePercentagePath?: string;
  ToleratedFailureCount?: number;
  ToleratedFailureCountPath?: string;
  Label?: string;
  [field: string]: unknown;
}

/** What the stand-in Task receives: the Map's input and what its fields evaluated to. */
interface TaskInput {
  input: unknown;
  context: { Execution?: { Id?: string; Name?: string }; StateMachine?: { Id?: string; Name?: string } };
  items?: unknown;
  itemReader?: Record<string, unknown>;
  maxItems?: number;
  batchInput?: unknown;
  maxItemsPerBatch?: number;
  maxInputBytesPerBatch?: number;
  maxConcurrency?: number;
  toleratedFailurePercentage?: number;
  toleratedFailureCount?: number;
  resultWriter?: Record<string, unknown>;
}

/** An error Step Functions raises for a Map Run (States.ItemReaderFailed …). */
class StatesError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

type TaskHandler = (input: unknown) => Promise<unknown>;

/** What one execution lends its Distributed Maps. */
export interface MapRunHost {
  executionArn: string;
  /** The execution's Task handlers (its children's Tasks use the same). */
  overrides: Record<string, TaskHandler>;
  retryIntervalOverrides?: Record<string, number>;
  /** Appends an event to the parent execution's history. */
  push: (event: RecordedEvent) => void;
  /** Aborted when the execution ends: no more children start, running ones are aborted. */
  signal: AbortSignal;
}

const isDistributed = (st: { Type?: string; ItemProcessor?: { ProcessorConfig?: { Mode?: string } } }) =>
  st.Type === 'Map' && st.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED';

/** A `…Path` field as a Parameters entry the interpreter evaluates. */
const path = (key: string, value: unknown) => (typeof value === 'string' ? { [`${key}.$`]: value } : {});

export class LocalDistributedMaps {
  /** State name -> the Distributed Map it is in the definition. */
  private readonly maps = new Map<string, MapState>();
  /** State name -> the interpreter for its child executions. */
  private readonly children = new Map<string, StateMachine>();
  /** Pass states that evaluate an ItemSelector (one per Map that has one). */
  private readonly selectors = new Map<string, StateMachine>();

  constructor(
    definition: Record<string, unknown>,
    private readonly o: {
      region: string;
      account: string;
      stateMachineName: string;
      /** The local S3 (the server starts after the service: asked for when a Map Run starts). */
      s3?: () => S3Client | undefined;
    },
  ) {
    this.collect(definition.States as Record<string, MapState>);
  }

  private collect(states: Record<string, MapState>) {
    for (const [name, st] of Object.entries(states)) {
      if (isDistributed(st)) {
        this.maps.set(name, st);
        const { StartAt, States } = st.ItemProcessor;
        const child = withoutInterpreterTimers({ StartAt, States });
        this.children.set(
          name,
          new StateMachine(this.interpreterDefinition(child) as unknown as StateMachineDefinition, {
            validationOptions: { noValidate: true },
          }),
        );
        const selector = st.ItemSelector ?? st.Parameters;
        if (selector !== undefined) {
          this.selectors.set(
            name,
            new StateMachine(
              {
                StartAt: 'Select',
                States: { Select: { Type: 'Pass', Parameters: selector, End: true } },
              } as never,
              { validationOptions: { noValidate: true } },
            ),
          );
        }
      }
      const nested = (st as { ItemProcessor?: { States?: Record<string, MapState> } }).ItemProcessor?.States;
      if (nested) this.collect(nested);
    }
  }

  get size(): number {
    return this.maps.size;
  }

  has(stateName: string): boolean {
    return this.maps.has(stateName);
  }

  /** The definition the interpreter runs: every Distributed Map a Task this module answers. */
  interpreterDefinition(definition: Record<string, unknown>): Record<string, unknown> {
    const copy = JSON.parse(JSON.stringify(definition)) as Record<string, unknown>;
    const states = copy.States as Record<string, Record<string, unknown>>;
    for (const [name, st] of Object.entries(states)) {
      if (isDistributed(st as never)) states[name] = standInTask(st as MapState);
    }
    return copy;
  }

  /**
   * An interpreter event of a stand-in Task, as the Map state it stands for (the history then has
   * MapStateEntered/Exited, and no Lambda events for it). Other events are returned as they are.
   */
  asMapEvent(e: InterpreterEvent): InterpreterEvent {
    if (!e.state || e.parentState || !this.maps.has(e.state.name)) return e;
    return { ...e, state: { ...e.state, type: 'Map' } };
  }

  /** The stand-in Tasks' handlers for one execution. */
  handlers(host: MapRunHost): Record<string, TaskHandler> {
    return Object.fromEntries(
      [...this.maps.keys()].map((name) => [
        name,
        (input: unknown) => this.run(name, input as TaskInput, host),
      ]),
    );
  }

  private s3(): S3Client {
    const client = this.o.s3?.();
    if (!client) throw new StatesError('States.Runtime', 'no local S3 for the Distributed Map');
    return client;
  }

  /** One Map Run: items, batches, children, tolerance, results. */
  private async run(name: string, p: TaskInput, host: MapRunHost): Promise<unknown> {
    const st = this.maps.get(name)!;
    const label = st.Label ?? name.replace(/[^0-9A-Za-z_-]+/g, '-').slice(0, 40);
    // A re-run (resume) of the same execution is the same Map Run: same id, same result keys.
    const runId = uuidFrom(`${host.executionArn}\u0000${name}`);
    const mapRunArn = `arn:aws:states:${this.o.region}:${this.o.account}:mapRun:${this.o.stateMachineName}/${label}:${runId}`;
    // After the interpreter's MapStateEntered (its events are recorded asynchronously).
    await new Promise((r) => setImmediate(r));
    host.push({ timestamp: Date.now(), type: 'MapRunStarted', mapRunStartedEventDetails: { mapRunArn } });
    try {
      const items = await this.items(st, p);
      const selected = await Promise.all(items.map((item, index) => this.select(name, p, item, index)));
      const inputs = st.ItemBatcher ? batch(selected, st, p) : selected;
      const children = await this.runChildren(name, st, p, inputs, { host, label, runId });
      const failed = children.filter((c) => c.status !== 'SUCCEEDED');
      const output = st.ResultWriter
        ? await this.writeResults(st, p, mapRunArn, runId, children)
        : children.map(resultOf);
      const failure = exceedsTolerance(failed.length, children.length, st, p);
      if (failure) throw new StatesError('States.ExceedToleratedFailureThreshold', failure);
      host.push({ timestamp: Date.now(), type: 'MapRunSucceeded' });
      return output;
    } catch (err) {
      const e = err as Error;
      host.push({
        timestamp: Date.now(),
        type: 'MapRunFailed',
        mapRunFailedEventDetails: { error: e.name, cause: causeText(e.message) },
      });
      throw err;
    }
  }

  /** The Map's items: from its ItemReader, else from ItemsPath (or the input itself). */
  private async items(st: MapState, p: TaskInput): Promise<unknown[]> {
    let items: unknown[];
    if (st.ItemReader) {
      items = await this.readItems(st.ItemReader, p.itemReader ?? {});
      const max = p.maxItems ?? st.ItemReader.ReaderConfig?.MaxItems;
      if (typeof max === 'number' && max > 0) items = items.slice(0, max);
    } else {
      const value = p.items ?? p.input;
      if (!Array.isArray(value)) {
        throw new StatesError(
          'States.Runtime',
          'the Map state input must be an array, or ItemsPath point to one',
        );
      }
      items = value;
    }
    return items;
  }

  private async readItems(reader: NonNullable<MapState['ItemReader']>, params: Record<string, unknown>) {
    const bucket = params.Bucket as string;
    const fail = (why: string) =>
      new StatesError(
        'States.ItemReaderFailed',
        `ItemReader (${reader.Resource}, s3://${bucket}/${params.Key ?? params.Prefix ?? ''}): ${why}`,
      );
    const s3 = this.s3();
    if (reader.Resource === 'arn:aws:states:::s3:listObjectsV2') {
      const out: unknown[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await s3.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: params.Prefix as string | undefined,
              ContinuationToken: token,
            }),
          );
          for (const o of page.Contents ?? []) {
            out.push({
              Etag: o.ETag,
              Key: o.Key,
              LastModified: o.LastModified?.toISOString(),
              Size: o.Size,
              StorageClass: o.StorageClass,
            });
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } catch (err) {
        throw fail((err as Error).message);
      }
      return out;
    }
    if (reader.Resource !== 'arn:aws:states:::s3:getObject')
      throw fail('local mode reads s3:getObject and s3:listObjectsV2');
    let text: string;
    try {
      const res = await s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: params.Key as string,
          VersionId: params.VersionId as string | undefined,
        }),
      );
      text = (await res.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      throw fail((err as Error).message);
    }
    const type = reader.ReaderConfig?.InputType ?? 'JSON';
    try {
      if (type === 'JSON') {
        const parsed = JSON.parse(text) as unknown;
        if (!Array.isArray(parsed)) throw new Error('the object is not a JSON array');
        return parsed;
      }
      if (type === 'JSONL') {
        return text
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as unknown);
      }
    } catch (err) {
      throw fail((err as Error).message);
    }
    throw fail(`local mode reads InputType JSON and JSONL, not ${type}`);
  }

  /** An item through the Map's ItemSelector (evaluated by the interpreter, with $$.Map.Item). */
  private async select(name: string, p: TaskInput, item: unknown, index: number): Promise<unknown> {
    const selector = this.selectors.get(name);
    if (!selector) return item;
    const run = selector.run(p.input as never, {
      context: { ...(p.context as object), Map: { Item: { Index: index, Value: item } } } as never,
    });
    return run.result;
  }

  /** One child execution per input, MaxConcurrency at a time; their outcomes in input order. */
  private async runChildren(
    name: string,
    st: MapState,
    p: TaskInput,
    inputs: unknown[],
    r: { host: MapRunHost; label: string; runId: string },
  ): Promise<ChildOutcome[]> {
    const machine = this.children.get(name)!;
    const express = st.ItemProcessor.ProcessorConfig?.ExecutionType === 'EXPRESS';
    const childStateMachine = `arn:aws:states:${this.o.region}:${this.o.account}:stateMachine:${this.o.stateMachineName}/${r.label}`;
    const asked = p.maxConcurrency ?? st.MaxConcurrency ?? 0;
    const limit = Math.min(asked > 0 ? asked : LOCAL_MAX_CHILDREN, LOCAL_MAX_CHILDREN);
    const outcomes: ChildOutcome[] = inputs.map((input, i) => ({
      name: uuidFrom(`${r.runId}\u0000${i}`),
      input,
      status: 'PENDING',
    }));
    let next = 0;
    const worker = async () => {
      for (;;) {
        if (r.host.signal.aborted) return;
        const i = next++;
        if (i >= outcomes.length) return;
        const o = outcomes[i];
        o.arn = `arn:aws:states:${this.o.region}:${this.o.account}:${express ? 'express' : 'execution'}:${this.o.stateMachineName}/${r.label}:${o.name}`;
        o.startDate = Date.now();
        const execution = machine.run(o.input as never, {
          overrides: {
            taskResourceLocalHandlers: r.host.overrides as never,
            retryIntervalOverrides: r.host.retryIntervalOverrides,
          },
          context: {
            Execution: { Id: o.arn, Name: o.name, RoleArn: `arn:aws:iam::${this.o.account}:role/local` },
            StateMachine: { Id: childStateMachine, Name: `${this.o.stateMachineName}/${r.label}` },
          },
        });
        const abort = () => execution.abort();
        r.host.signal.addEventListener('abort', abort, { once: true });
        try {
          o.output = await execution.result;
          o.status = 'SUCCEEDED';
        } catch (err) {
          const e = (err as Error & { cause?: Error }).cause ?? (err as Error);
          o.status = r.host.signal.aborted ? 'ABORTED' : 'FAILED';
          o.error = e.name;
          o.cause = causeText(e.message);
        } finally {
          r.host.signal.removeEventListener('abort', abort);
          o.stopDate = Date.now();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, outcomes.length) }, worker));
    if (r.host.signal.aborted)
      throw new StatesError('States.Runtime', 'the execution ended during its Map Run');
    return outcomes;
  }

  /** The children's results under `<Prefix>/<map run id>/`, then manifest.json; the state's result. */
  private async writeResults(
    st: MapState,
    p: TaskInput,
    mapRunArn: string,
    runId: string,
    children: ChildOutcome[],
  ): Promise<unknown> {
    const params = p.resultWriter ?? {};
    const bucket = params.Bucket as string;
    const prefix =
      typeof params.Prefix === 'string' && params.Prefix ? `${params.Prefix.replace(/\/+$/, '')}/` : '';
    const dir = `${prefix}${runId}`;
    const s3 = this.s3();
    const files: Record<'SUCCEEDED' | 'FAILED' | 'PENDING', Array<{ Key: string; Size: number }>> = {
      SUCCEEDED: [],
      FAILED: [],
      PENDING: [],
    };
    const put = async (key: string, body: string) => {
      try {
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }),
        );
      } catch (err) {
        throw new StatesError(
          'States.ResultWriterFailed',
          `ResultWriter (s3://${bucket}/${key}): ${(err as Error).message}`,
        );
      }
    };
    for (const status of ['SUCCEEDED', 'FAILED', 'PENDING'] as const) {
      const entries = children
        .filter((c) =>
          status === 'FAILED' ? c.status === 'FAILED' || c.status === 'ABORTED' : c.status === status,
        )
        .map((c) => resultEntry(c, mapRunArn));
      if (entries.length === 0) continue;
      const key = `${dir}/${status}_0.json`;
      const body = JSON.stringify(entries);
      await put(key, body);
      files[status].push({ Key: key, Size: Buffer.byteLength(body) });
    }
    const manifestKey = `${dir}/manifest.json`;
    await put(
      manifestKey,
      JSON.stringify({ DestinationBucket: bucket, MapRunArn: mapRunArn, ResultFiles: files }),
    );
    void st;
    return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: bucket, Key: manifestKey } };
  }
}

interface ChildOutcome {
  name: string;
  arn?: string;
  input: unknown;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  output?: unknown;
  error?: string;
  cause?: string;
  startDate?: number;
  stopDate?: number;
}

/** A child in a ResultWriter file, as Step Functions writes it. */
function resultEntry(c: ChildOutcome, mapRunArn: string): Record<string, unknown> {
  const iso = (t?: number) => (t === undefined ? undefined : new Date(t).toISOString());
  return {
    ExecutionArn: c.arn,
    Input: JSON.stringify(c.input),
    InputDetails: { Included: true },
    Name: c.name,
    ...(c.status === 'SUCCEEDED'
      ? { Output: JSON.stringify(c.output ?? null), OutputDetails: { Included: true } }
      : { Error: c.error ?? 'States.NotRun', Cause: c.cause ?? '' }),
    RedriveCount: 0,
    RedriveStatus: 'NOT_REDRIVABLE',
    StartDate: iso(c.startDate),
    StateMachineArn: mapRunArn.replace(':mapRun:', ':stateMachine:').replace(/:[^:]+$/, ''),
    Status: c.status === 'ABORTED' ? 'ABORTED' : c.status,
    StopDate: iso(c.stopDate),
  };
}

/** Without a ResultWriter: each child's output (a failed one: its error and cause). */
function resultOf(c: ChildOutcome): unknown {
  return c.status === 'SUCCEEDED' ? c.output : { Error: c.error, Cause: c.cause };
}

/** Items in batches of `{ Items, BatchInput }`: at most MaxItemsPerBatch items, MaxInputBytesPerBatch bytes. */
function batch(items: unknown[], st: MapState, p: TaskInput): unknown[] {
  const b = st.ItemBatcher!;
  const maxItems = p.maxItemsPerBatch ?? b.MaxItemsPerBatch ?? Infinity;
  const maxBytes = p.maxInputBytesPerBatch ?? b.MaxInputBytesPerBatch ?? DEFAULT_MAX_INPUT_BYTES_PER_BATCH;
  if (!(maxItems >= 1))
    throw new StatesError('States.Runtime', `MaxItemsPerBatch must be a positive integer: ${maxItems}`);
  const withInput = (list: unknown[]) =>
    p.batchInput !== undefined ? { Items: list, BatchInput: p.batchInput } : { Items: list };
  const out: unknown[] = [];
  let current: unknown[] = [];
  for (const item of items) {
    if (
      current.length > 0 &&
      (current.length >= maxItems || jsonBytes(withInput([...current, item])) > maxBytes)
    ) {
      out.push(withInput(current));
      current = [];
    }
    current.push(item);
  }
  if (current.length > 0) out.push(withInput(current));
  return out;
}

/** Why a Map Run failed for its failed children, or undefined within its tolerance. */
function exceedsTolerance(failed: number, total: number, st: MapState, p: TaskInput): string | undefined {
  if (failed === 0) return undefined;
  const pct = p.toleratedFailurePercentage ?? st.ToleratedFailurePercentage;
  const count = p.toleratedFailureCount ?? st.ToleratedFailureCount;
  const overPct = pct === undefined ? count === undefined : (failed * 100) / total > pct;
  const overCount = count === undefined ? pct === undefined : failed > count;
  if (!overPct && !overCount) return undefined;
  return `${failed} of ${total} child executions failed, beyond the tolerated ${
    pct !== undefined ? `${pct}%` : ''
  }${pct !== undefined && count !== undefined ? ' / ' : ''}${count !== undefined ? `${count}` : ''}${
    pct === undefined && count === undefined ? 'none' : ''
  }`;
}

/** The Task the interpreter runs for a Distributed Map: its Parameters evaluate the Map's fields. */
function standInTask(st: MapState): Record<string, unknown> {
  const reader = st.ItemReader;
  const batcher = st.ItemBatcher;
  const parameters: Record<string, unknown> = {
    'input.$': '$',
    'context.$': '$$',
    ...(reader ? {} : path('items', st.ItemsPath)),
    ...(reader?.Parameters ? { itemReader: reader.Parameters } : {}),
    ...path('maxItems', reader?.ReaderConfig?.MaxItemsPath),
    ...(batcher?.BatchInput !== undefined ? { batchInput: batcher.BatchInput } : {}),
    ...path('maxItemsPerBatch', batcher?.MaxItemsPerBatchPath),
    ...path('maxInputBytesPerBatch', batcher?.MaxInputBytesPerBatchPath),
    ...path('maxConcurrency', st.MaxConcurrencyPath),
    ...path('toleratedFailurePercentage', st.ToleratedFailurePercentagePath),
    ...path('toleratedFailureCount', st.ToleratedFailureCountPath),
    ...(st.ResultWriter?.Parameters ? { resultWriter: st.ResultWriter.Parameters } : {}),
  };
  const keep = [
    'Comment',
    'InputPath',
    'ResultSelector',
    'ResultPath',
    'OutputPath',
    'Retry',
    'Catch',
    'Next',
    'End',
  ];
  return {
    Type: 'Task',
    Resource: DISTRIBUTED_MAP_RESOURCE,
    Parameters: parameters,
    ...Object.fromEntries(keep.filter((k) => k in st).map((k) => [k, st[k]])),
  };
}

/** A UUID-shaped id derived from a text (the same Map Run and children on a re-run). */
function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
