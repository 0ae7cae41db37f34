/**
 * The embedded local stack: a local S3 server with the three buckets, a local Step Functions
 * endpoint running statemachine/pipeline.asl.json, and the four functions in this process.
 *
 * What differs from AWS is only the wiring: the functions get the same environment variables
 * (with endpoint URLs pointing at the local servers), S3 events of the input bucket invoke the
 * starter as S3 would, and the state machine's Lambda Tasks invoke the in-process handlers
 * (infra/local/lambda/service.ts) instead of the Lambda service.
 *
 * Crash-safe: executions are journaled under `<local dir>/executions/`. On start, the executions
 * a previous stack left running are re-run (resumed from their finished tasks), then every upload
 * that has neither an output nor an error record nor a running execution is started (reconcile,
 * the same code as `facerec reconcile`): a kill -9 loses no upload.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENV, loadConfig, type Config } from '../../functions/config.js';
import type { Profile } from '../../functions/core/facts.js';
import { createHash } from 'node:crypto';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { samplingText } from '../../functions/core/sampling.js';
import { SFNClient } from '@aws-sdk/client-sfn';
import { s3ClientConfig, sfnClientConfig } from '../../functions/aws/clients.js';
import { reconcileUploads, type ReconcileReport } from '../reconcile/run.js';
import { describeFfmpeg, ffmpegVersion, resolveFfmpeg } from '../../functions/core/ffmpeg/binary.js';
import {
  bucketPrefixOf,
  galleryLocation,
  parseS3Uri,
  type BucketNames,
} from '../../functions/core/layout.js';
import { s3Client } from '../../functions/aws/clients.js';
import { putGallery } from '../../functions/aws/gallery-source.js';
import {
  ERROR_NAMES,
  FUNCTION_MEMORY_MB,
  FUNCTION_TIMEOUT_SECONDS,
  type FunctionName,
  UPLOAD_BATCH_SIZE,
} from '../../functions/core/facts.js';
import { loadDefinition, pipelineSubstitutions } from './sfn/load-definition.js';
import {
  AccountConcurrency,
  LambdaFunctionError,
  LocalFunction,
  type FunctionCode,
  type LambdaHandler,
} from './lambda/service.js';
import { functionBundle } from './lambda/sandbox/bundles.js';
import { localAccess, type LocalAccess } from './iam/local-access.js';
import type { PolicySet } from './iam/policy-set.js';
import { LocalQueue } from './queue.js';
import type { StarterResult } from '../../functions/starter/handler.js';
import { LocalEventBus, PUT_EVENTS_RESOURCE } from './events.js';
import { localMetricsFile } from './metrics.js';
import { startLocalS3, type LocalS3 } from './s3/service.js';
import { isDiskError } from './s3/store.js';
import { startSfnServer, type SfnServer } from './sfn/server.js';
import { LocalStepFunctions, type ExecutionRecord, type LocalStepFunctionsOptions } from './sfn/service.js';

export type Env = Record<string, string | undefined>;

export interface LocalStackOptions {
  /** Settings on top of process.env (FACEREC_PROFILE, FACEREC_GALLERY, ports, …). */
  env?: Env;
  /** Write `<local dir>/stack.json` so that other facerec commands find this stack. */
  advertise?: boolean;
  /** Replace a function's handler (tests). */
  handlers?: Partial<Record<FunctionName, LambdaHandler>>;
  /** Called when an S3 event could not start executions after the queue's redeliveries (it is
   * then a dead letter, as on AWS). */
  onStarterError?: (err: LambdaFunctionError, event: unknown) => void;
  /** Called with the uploads the starter skipped (not a video by its key or content type, gone
   * since): on AWS they are in the starter's log only; here a terminal can say so. */
  onUploadSkipped?: (skipped: { key: string; reason: string }) => void;
  /** On start, re-run interrupted executions and start unanswered uploads (default true). */
  recover?: boolean;
  /** Edits the synthesized IAM policies before they are enforced (tests: remove one grant). */
  iamPolicies?: (synthesized: PolicySet) => PolicySet;
}

/** What the stack did on start to pick up where a previous one stopped. */
export interface Recovery {
  /** Executions a previous stack left running, re-run. */
  resumed: ExecutionRecord[];
  /** Uploads without output, error record or execution, started. */
  reconcile?: ReconcileReport;
  /** Reconcile could not run (the stack works on; `facerec reconcile` retries). */
  reconcileError?: string;
}

/** What other processes read to find a running stack. */
export interface StackInfo {
  pid: number;
  s3Endpoint: string;
  sfnEndpoint: string;
  region: string;
  stateMachineArn: string;
  buckets: BucketNames;
  profile: Profile;
  /** The default profile's sampling (`10`, `1/s`: FACEREC_SAMPLE). */
  sampling?: string;
  gallery?: string;
  dataDir: string;
  ffmpeg: string;
  startedAt: string;
}

export interface LocalStack {
  info: StackInfo;
  /** The configuration the functions run with. */
  config: Config;
  /** The functions' environment (what Lambda would get). */
  env: Env;
  sfn: LocalStepFunctions;
  /** The per-video events the state machine announces ('Video processed', 'Video failed'). */
  events: LocalEventBus;
  functions: Record<FunctionName, LocalFunction>;
  /** IAM as enforced by the local endpoints (undefined when FACEREC_LOCAL_IAM=off). */
  iam?: LocalAccess['iam'];
  /** The account's Lambda concurrency limit, when one is set (FACEREC_LOCAL_ACCOUNT_CONCURRENCY). */
  account?: AccountConcurrency;
  recovery: Recovery;
  /** Resolves when no S3 event is being handled and no execution runs. */
  idle(pollMs?: number): Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

export function stackFile(dir: string): string {
  return path.join(dir, 'stack.json');
}

export function readStackInfo(dir: string): StackInfo | undefined {
  try {
    return JSON.parse(readFileSync(stackFile(dir), 'utf8')) as StackInfo;
  } catch {
    return undefined;
  }
}

const cores = () =>
  typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;

/** A function's code as Lambda runs it: its handler bundled as the deployment bundles it
 * (`index.handler`; sandbox/bundles.ts), in execution environments with the function's own
 * environment. */
async function functionCode(fn: FunctionName, config: Config, env: Env): Promise<FunctionCode> {
  return {
    sandbox: {
      module: await functionBundle(fn),
      exportName: 'handler',
      env,
      metricsFile: localMetricsFile(config.pipeline.local.dir),
    },
  };
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const baseEnv: Env = { ...process.env, ...opts.env };
  const base = loadConfig(baseEnv as NodeJS.ProcessEnv);
  const p = base.pipeline;
  useLocalCredentials();
  const ffmpeg = await describeLocalFfmpeg(base);

  const prefix = bucketPrefixOf(p.buckets);
  const account = p.local.accountConcurrency ? new AccountConcurrency(p.local.accountConcurrency) : undefined;
  // Deployed once the functions' environment is known (it names the servers' endpoints).
  const functions = localFunctions(prefix, p.aws.region, p.local.concurrency ?? cores(), account);
  const events = new LocalEventBus();
  // A Distributed Map's ItemReader and ResultWriter reach the local S3 once it runs.
  let mapS3: S3Client | undefined;
  const sfn = pipelineStateMachine({
    prefix,
    region: p.aws.region,
    functions,
    mapMaxConcurrency: p.stateMachine.mapMaxConcurrency,
    services: { [PUT_EVENTS_RESOURCE]: events.putEvents },
    journalDir: journalDirOf(base),
    s3: () => mapS3,
  });
  const uploads = uploadQueue(functions.starter, p.aws.region, opts);
  // Objects older than this were uploaded while no stack ran: their events are lost.
  const s3StartedAt = Date.now();
  const access = await localAccess({
    config: base,
    functions,
    stateMachineArn: sfn.stateMachineArn,
    editPolicies: opts.iamPolicies,
  }).catch(async (err: unknown) => {
    await sfn.close();
    throw err;
  });
  const servers = await startServers(base, sfn, uploads, access);

  try {
    const galleryFile = localGalleryFile(base);
    const env = functionEnvironment(baseEnv, base, servers, sfn.stateMachineArn, galleryFile);
    const config = loadConfig(env as NodeJS.ProcessEnv);
    mapS3 = s3Client(config.pipeline.aws);
    if (galleryFile) await pushGallery(config, galleryFile);
    const deployed = Object.entries(functions) as Array<[FunctionName, LocalFunction]>;
    // The bundles are built side by side (each is cached until one of its sources changes).
    const codes = await Promise.all(
      deployed.map(([name, fn]): FunctionCode | Promise<FunctionCode> => {
        const standIn = opts.handlers?.[name];
        return standIn
          ? { handler: standIn }
          : functionCode(name, config, access.environmentOf(name, fn, env));
      }),
    );
    for (const [i, [, fn]] of deployed.entries()) {
      fn.deploy(codes[i]);
      fn.prewarm();
    }
    const recovery: Recovery =
      opts.recover === false ? { resumed: [] } : await recover(sfn, config, s3StartedAt);
    const info = stackInfoOf(base, servers, sfn.stateMachineArn, galleryFile, ffmpeg);
    if (opts.advertise) advertise(p.local.dir, info);
    return runningStack({
      info,
      config,
      env,
      sfn,
      events,
      functions,
      iam: access.iam,
      account,
      recovery,
      uploads,
      servers,
      opts,
      localDir: p.local.dir,
    });
  } catch (err) {
    await sfn.close();
    await servers.close();
    await closeFunctions(functions);
    throw err;
  }
}

/** Stops the functions' execution environments. */
async function closeFunctions(functions: Record<FunctionName, LocalFunction>): Promise<void> {
  await Promise.all(Object.values(functions).map((f) => f.close()));
}

/** Local servers accept any credentials; the SDK still wants some to sign with. */
function useLocalCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
}

/** The ffmpeg the splitter will run, found and asked for its version now (a clear error early). */
async function describeLocalFfmpeg(config: Config): Promise<string> {
  const { ffmpeg } = config.pipeline;
  const binary = resolveFfmpeg({ explicitPath: ffmpeg.path, searchPath: ffmpeg.searchPath });
  return describeFfmpeg(binary, await ffmpegVersion(binary.path));
}

const journalDirOf = (config: Config) => path.join(config.pipeline.local.dir, 'executions');
const s3DataDirOf = (config: Config) => path.join(config.pipeline.local.dir, 's3');

/**
 * The four functions, with the same time limits and memory as on AWS (core/facts.ts), sharing the account's
 * concurrency limit if any. Their code is deployed once the servers run (their environment names
 * the servers' endpoints).
 */
function localFunctions(
  prefix: string,
  region: string,
  concurrency: number,
  account: AccountConcurrency | undefined,
): Record<FunctionName, LocalFunction> {
  const fn = (name: FunctionName, n: number) =>
    new LocalFunction({
      name: `${prefix}-${name}`,
      timeoutSeconds: FUNCTION_TIMEOUT_SECONDS[name],
      memoryMb: FUNCTION_MEMORY_MB[name],
      concurrency: n,
      accountConcurrency: account,
      region,
    });
  // Starter and result do a few requests an invocation: more environments than cores would only
  // add cold starts (each a bundle's load, ~0.2 s of CPU) in the middle of a burst.
  const light = Math.min(4, concurrency);
  return {
    starter: fn('starter', light),
    splitter: fn('splitter', concurrency),
    recognition: fn('recognition', concurrency),
    result: fn('result', light),
  };
}

/** statemachine/pipeline.asl.json over local functions: what the stack runs and the history serves. */
function pipelineStateMachine(o: {
  prefix: string;
  region: string;
  /** The functions the service knows; the definition's Tasks invoke splitter, recognition and result. */
  functions: Record<'splitter' | 'recognition' | 'result', LocalFunction> & { starter?: LocalFunction };
  mapMaxConcurrency: number;
  services: LocalStepFunctionsOptions['services'];
  journalDir: string;
  s3?: LocalStepFunctionsOptions['s3'];
}): LocalStepFunctions {
  const definition = loadDefinition(
    pipelineSubstitutions({
      splitter: o.functions.splitter.arn,
      recognition: o.functions.recognition.arn,
      result: o.functions.result.arn,
      mapMaxConcurrency: o.mapMaxConcurrency,
    }),
  );
  return new LocalStepFunctions({
    definition,
    name: `${o.prefix}-pipeline`,
    functions: Object.values(o.functions),
    region: o.region,
    services: o.services,
    journalDir: o.journalDir,
    s3: o.s3,
  });
}

interface UploadQueue {
  /** Hands an input-bucket event to the starter through the queue. */
  send(event: { Records: unknown[] }): void;
  /** Events sent and not yet handled or dead-lettered. */
  readonly pending: number;
}

/**
 * Input-bucket events reach the starter through a queue, as on AWS (SQS-shaped messages,
 * partial-batch responses, dead letters reported through onStarterError).
 */
function uploadQueue(
  starter: LocalFunction,
  region: string,
  { onStarterError, onUploadSkipped }: Pick<LocalStackOptions, 'onStarterError' | 'onUploadSkipped'>,
): UploadQueue {
  let pending = 0;
  const queue = new LocalQueue(starter, {
    region,
    batchSize: UPLOAD_BATCH_SIZE,
    onResponse: (response) => {
      const skipped = (response as Partial<StarterResult> | null)?.skipped;
      if (Array.isArray(skipped)) skipped.forEach((s) => onUploadSkipped?.(s));
    },
    onDeadLetter: (letter) =>
      onStarterError?.(
        letter.error ??
          new LambdaFunctionError(
            ERROR_NAMES.DeadLetter,
            `the starter failed this message ${letter.receiveCount} times`,
          ),
        JSON.parse(letter.body) as unknown,
      ),
  });
  return {
    send(event) {
      pending++;
      void queue.send(event).finally(() => pending--);
    },
    get pending() {
      return pending;
    },
  };
}

interface LocalServers {
  s3: LocalS3;
  sfn: SfnServer;
  close(): Promise<void>;
}

/** The S3 server (its input events to the upload queue) and the Step Functions endpoint. */
async function startServers(
  config: Config,
  sfn: LocalStepFunctions,
  uploads: UploadQueue,
  access: Pick<LocalAccess, 'authorizeS3' | 'authorizeSfn'>,
): Promise<LocalServers> {
  const p = config.pipeline;
  let s3: LocalS3 | undefined;
  try {
    s3 = await startLocalS3({
      host: p.local.host,
      port: p.local.s3Port,
      directory: s3DataDirOf(config),
      buckets: p.buckets,
      onInputEvent: (event) => uploads.send(event),
      authorize: access.authorizeS3,
    });
    const sfnServer = await startSfnServer(sfn, p.local.host, p.local.sfnPort, access.authorizeSfn);
    const started = s3;
    return {
      s3: started,
      sfn: sfnServer,
      close: async () => {
        await Promise.all([sfnServer.close(), started.close()]);
      },
    };
  } catch (err) {
    await s3?.close();
    await sfn.close();
    throw err;
  }
}

/** A gallery given as a local file (not an S3 location): pushed to the meta bucket at start. */
function localGalleryFile(config: Config): string | undefined {
  return config.galleryPath && !parseS3Uri(config.galleryPath) ? config.galleryPath : undefined;
}

/**
 * The functions' environment: the same variables as on AWS, endpoints pointing at the local
 * servers; a local gallery file is read from the meta bucket, as on AWS.
 */
function functionEnvironment(
  baseEnv: Env,
  config: Config,
  servers: LocalServers,
  stateMachineArn: string,
  galleryFile: string | undefined,
): Env {
  const p = config.pipeline;
  return {
    ...threadsPerEnvironment(baseEnv, p.local.concurrency ?? cores()),
    // The bundles do not sit in the project (their defaults would point beside them).
    FACEREC_MODELS_DIR: config.engine.modelsDir,
    FACEREC_LOCAL_DIR: p.local.dir,
    AWS_REGION: p.aws.region,
    [ENV.AWS_ENDPOINT_URL_S3]: servers.s3.url,
    [ENV.AWS_ENDPOINT_URL_SFN]: servers.sfn.url,
    [ENV.STATE_MACHINE_ARN]: stateMachineArn,
    ...(galleryFile ? { [ENV.FACEREC_GALLERY]: galleryLocation(p.buckets) } : {}),
  };
}

/** Threads for each of `concurrency` execution environments sharing this machine's cores. */
export function environmentThreads(concurrency: number): number {
  return Math.max(1, Math.floor(cores() / Math.max(1, concurrency)));
}

/**
 * The cores shared out between a function's execution environments. On Lambda an environment has
 * its own vCPUs, and onnxruntime and ffmpeg's decoder take a thread per core; here `concurrency`
 * environments share this machine's cores, and a thread per core in each would put several on
 * every core, which costs CPU (onnxruntime's threads spin while they wait; ffmpeg's H.264 frame
 * threads cost ~80% more CPU than one thread; docs/benchmarks.md "Long videos"). A setting the
 * user gave is kept.
 */
function threadsPerEnvironment(baseEnv: Env, concurrency: number): Env {
  const threads = String(environmentThreads(concurrency));
  return {
    ...baseEnv,
    [ENV.FACEREC_ONNX_THREADS]: baseEnv[ENV.FACEREC_ONNX_THREADS] || threads,
    [ENV.FACEREC_FFMPEG_THREADS]: baseEnv[ENV.FACEREC_FFMPEG_THREADS] || threads,
  };
}

/**
 * The gallery file to the meta bucket, where the recognition function reads it: not written
 * again when the bucket holds the same bytes (a start on a full disk needs no write). A push the
 * disk refuses leaves the gallery the bucket has (warned); any other failure stops the start.
 */
async function pushGallery(config: Config, galleryFile: string): Promise<void> {
  const p = config.pipeline;
  const s3 = s3Client(p.aws);
  const location = galleryLocation(p.buckets);
  const ref = parseS3Uri(location)!;
  try {
    const body = readFileSync(galleryFile);
    const md5 = createHash('md5').update(body).digest('hex');
    const current = await s3
      .send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }))
      .catch(() => undefined);
    if (current?.ETag?.replace(/"/g, '') === md5) return;
    await putGallery(s3, location, body);
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 500 && /disk is full/.test((err as Error).message)) {
      console.error(
        `warning: the disk is full: the gallery ${galleryFile} was not pushed; recognition uses the one in ${location}, if any`,
      );
      return;
    }
    throw new Error(`cannot push the gallery ${galleryFile} to the local S3: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    s3.destroy();
  }
}

function stackInfoOf(
  config: Config,
  servers: LocalServers,
  stateMachineArn: string,
  galleryFile: string | undefined,
  ffmpeg: string,
): StackInfo {
  const p = config.pipeline;
  return {
    pid: process.pid,
    s3Endpoint: servers.s3.url,
    sfnEndpoint: servers.sfn.url,
    region: p.aws.region,
    stateMachineArn,
    buckets: p.buckets,
    profile: p.profile,
    ...(p.profile === 'default' ? { sampling: samplingText(p.frames.sampling) } : {}),
    gallery: galleryFile ? path.resolve(galleryFile) : config.galleryPath,
    dataDir: s3DataDirOf(config),
    ffmpeg,
    startedAt: new Date().toISOString(),
  };
}

/** `<local dir>/stack.json`: how other facerec commands find this stack. On a full disk the stack
 * runs unadvertised (warned): its endpoints are printed, and reads and deletes free the disk. */
function advertise(dir: string, info: StackInfo): void {
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(stackFile(dir), `${JSON.stringify(info, null, 2)}\n`);
  } catch (err) {
    if (!isDiskError(err)) throw err;
    rmSync(stackFile(dir), { force: true });
    console.error(
      `warning: cannot write ${stackFile(dir)} (${(err as NodeJS.ErrnoException).code}): other facerec commands will not find this stack`,
    );
  }
}

/** Removes `stack.json` if it still names this stack (another may have started since). */
function withdraw(dir: string, info: StackInfo): void {
  const current = readStackInfo(dir);
  if (current?.pid === process.pid && current.s3Endpoint === info.s3Endpoint) {
    rmSync(stackFile(dir), { force: true });
  }
}

/** The stack's parts (a LocalStack without its methods) and what `idle` and `stop` need. */
type StackParts = Omit<LocalStack, 'idle' | 'stop'> & {
  uploads: UploadQueue;
  servers: LocalServers;
  opts: LocalStackOptions;
  /** Where stack.json is advertised. */
  localDir: string;
};

function runningStack(s: StackParts): LocalStack {
  const { info, config, env, sfn, events, functions, iam, account, recovery, uploads, servers } = s;
  let stopped = false;
  return {
    info,
    config,
    env,
    sfn,
    events,
    functions,
    iam,
    account,
    recovery,
    async idle(pollMs = 100) {
      for (;;) {
        if (uploads.pending === 0 && sfn.runningCount === 0) return;
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
    async stop(graceMs = 0) {
      if (stopped) return;
      stopped = true;
      if (s.opts.advertise) withdraw(s.localDir, info);
      await sfn.close(graceMs);
      await servers.close();
      await closeFunctions(functions);
    },
  };
}

/**
 * Picks up where a previous stack stopped: re-runs the executions it left running, then starts
 * every upload that has neither an output nor an error record nor a running execution.
 */
async function recover(sfn: LocalStepFunctions, config: Config, s3StartedAt: number): Promise<Recovery> {
  const p = config.pipeline;
  const recovery: Recovery = { resumed: sfn.resumeInterrupted() };
  const clients = {
    s3: new S3Client(s3ClientConfig(p.aws)),
    sfn: new SFNClient(sfnClientConfig(p.aws)),
  };
  try {
    recovery.reconcile = await reconcileUploads({
      ...clients,
      buckets: p.buckets,
      profile: p.profile,
      stateMachineArn: sfn.stateMachineArn,
      extensions: p.video.extensions,
      contentTypes: p.video.contentTypes,
      // Every upload dated before this S3 server started was acknowledged by an earlier process,
      // whose S3 events died with it: all of them are reconciled (objects are dated to the
      // millisecond, by this machine's clock). Uploads since have their events in this process.
      uploadedBefore: s3StartedAt,
    });
  } catch (err) {
    recovery.reconcileError = `${(err as Error).name}: ${(err as Error).message}`;
  } finally {
    clients.s3.destroy();
    clients.sfn.destroy();
  }
  return recovery;
}

/**
 * The executions journaled in a data folder, served read-only on an ephemeral Step Functions
 * endpoint while no stack runs (`facerec executions` after a stop or a crash): the same API and
 * history the stack serves, nothing runs.
 */
export async function serveExecutionHistory(
  env: Env = process.env,
): Promise<{ info: StackInfo; close: () => Promise<void> } | undefined> {
  const config = loadConfig(env as NodeJS.ProcessEnv);
  const p = config.pipeline;
  const journalDir = journalDirOf(config);
  if (!existsSync(path.join(journalDir, 'journal.ndjson'))) return undefined;
  const prefix = bucketPrefixOf(p.buckets);
  const idle = (name: FunctionName) =>
    new LocalFunction({
      name: `${prefix}-${name}`,
      region: p.aws.region,
      timeoutSeconds: 1,
      concurrency: 1,
      handler: () => Promise.reject(new Error('no local stack runs')),
    });
  const sfn = pipelineStateMachine({
    prefix,
    region: p.aws.region,
    functions: { splitter: idle('splitter'), recognition: idle('recognition'), result: idle('result') },
    mapMaxConcurrency: p.stateMachine.mapMaxConcurrency,
    // Read-only: nothing runs, so no event is ever put.
    services: { [PUT_EVENTS_RESOURCE]: () => Promise.reject(new Error('no local stack runs')) },
    journalDir,
  });
  await sfn.close(); // read-only: no new executions, nothing re-run
  const server = await startSfnServer(sfn, '127.0.0.1', 0);
  return {
    info: {
      pid: process.pid,
      s3Endpoint: '',
      sfnEndpoint: server.url,
      region: p.aws.region,
      stateMachineArn: sfn.stateMachineArn,
      buckets: p.buckets,
      profile: p.profile,
      dataDir: s3DataDirOf(config),
      ffmpeg: '',
      startedAt: new Date().toISOString(),
    },
    close: () => server.close(),
  };
}
