/**
 * The embedded local stack: a local S3 server with the three buckets, a local Step Functions
 * endpoint running statemachine/pipeline.asl.json, and the four functions in this process.
 *
 * What differs from AWS is only the wiring: the functions get the same environment variables
 * (with endpoint URLs pointing at the local servers), S3 events of the input bucket invoke the
 * starter as S3 would, and the state machine's Lambda Tasks invoke the in-process handlers
 * (infra/local/lambda.ts) instead of the Lambda service.
 *
 * Crash-safe: executions are journaled under `<local dir>/executions/`. On start, the executions
 * a previous stack left running are re-run (resumed from their finished tasks), then every upload
 * that has neither an output nor an error record nor a running execution is started (reconcile,
 * the same code as `facerec reconcile`): a kill -9 loses no upload.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../functions/config.js';
import type { Profile } from '../../functions/core/facts.js';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { s3ClientConfig, sfnClientConfig } from '../../functions/aws/clients.js';
import { reconcileUploads, type ReconcileReport } from '../reconcile/run.js';
import { describeFfmpeg, ffmpegVersion, resolveFfmpeg } from '../../functions/core/ffmpeg-binary.js';
import { bucketPrefixOf, galleryLocation, type BucketNames } from '../../functions/core/layout.js';
import { s3Client } from '../../functions/aws/clients.js';
import { parseGalleryLocation, putGallery } from '../../functions/aws/gallery-source.js';
import { FUNCTION_TIMEOUT_SECONDS, type FunctionName } from '../../functions/core/facts.js';
import { loadDefinition, pipelineSubstitutions } from './definition.js';
import { LambdaFunctionError, LocalFunction, type LambdaHandler } from './lambda.js';
import { LocalQueue } from './queue.js';
import { LocalEventBus, PUT_EVENTS_RESOURCE } from './events.js';
import { startLocalS3, type LocalS3 } from './s3.js';
import { startSfnServer, type SfnServer } from './sfn-server.js';
import { LocalStepFunctions, type ExecutionRecord } from './stepfunctions.js';

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
  /** On start, re-run interrupted executions and start unanswered uploads (default true). */
  recover?: boolean;
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

async function defaultHandler(fn: FunctionName, config: Config): Promise<LambdaHandler> {
  const deps = { config };
  switch (fn) {
    case 'starter':
      return (await import('../../functions/starter/handler.js')).createHandler(
        deps,
      ) as unknown as LambdaHandler;
    case 'splitter':
      return (await import('../../functions/splitter/handler.js')).createHandler(
        deps,
      ) as unknown as LambdaHandler;
    case 'recognition':
      return (await import('../../functions/recognition/handler.js')).createHandler(
        deps,
      ) as unknown as LambdaHandler;
    case 'result':
      return (await import('../../functions/result/handler.js')).createHandler(
        deps,
      ) as unknown as LambdaHandler;
  }
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const baseEnv: Env = { ...process.env, ...opts.env };
  const base = loadConfig(baseEnv as NodeJS.ProcessEnv);
  const p = base.pipeline;
  const region = p.aws.region;
  // Local servers accept any credentials; the SDK still wants some to sign with.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';

  const ffmpegBinary = resolveFfmpeg({ explicitPath: p.ffmpeg.path, searchPath: p.ffmpeg.searchPath });
  const ffmpeg = describeFfmpeg(ffmpegBinary, await ffmpegVersion(ffmpegBinary.path));

  const impl: Partial<Record<FunctionName, LambdaHandler>> = {};
  const concurrency = p.local.concurrency ?? cores();
  const prefix = bucketPrefixOf(p.buckets);
  // The same time limits as on AWS (core/facts.ts).
  const fn = (name: FunctionName, n: number) =>
    new LocalFunction({
      name: `${prefix}-${name}`,
      handler: (event, context) => impl[name]!(event, context),
      timeoutSeconds: FUNCTION_TIMEOUT_SECONDS[name],
      concurrency: n,
      region,
    });
  const functions: Record<FunctionName, LocalFunction> = {
    starter: fn('starter', 4),
    splitter: fn('splitter', concurrency),
    recognition: fn('recognition', concurrency),
    result: fn('result', 4),
  };
  const definition = loadDefinition(
    pipelineSubstitutions({
      splitter: functions.splitter.arn,
      recognition: functions.recognition.arn,
      result: functions.result.arn,
      mapMaxConcurrency: p.stateMachine.mapMaxConcurrency,
    }),
  );
  const events = new LocalEventBus();
  const sfn = new LocalStepFunctions({
    definition,
    name: `${prefix}-pipeline`,
    functions: Object.values(functions),
    region,
    services: { [PUT_EVENTS_RESOURCE]: events.putEvents },
    journalDir: path.join(p.local.dir, 'executions'),
  });

  let pendingEvents = 0;
  const uploads = new LocalQueue(functions.starter, {
    region,
    onDeadLetter: (letter) =>
      opts.onStarterError?.(
        letter.error ??
          new LambdaFunctionError(
            'Facerec.DeadLetter',
            `the starter failed this message ${letter.receiveCount} times`,
          ),
        JSON.parse(letter.body) as unknown,
      ),
  });
  const dataDir = path.join(p.local.dir, 's3');
  let s3: LocalS3 | undefined;
  let sfnServer: SfnServer | undefined;
  // Objects older than this were uploaded while no stack ran: their events are lost.
  const s3StartedAt = Date.now();
  try {
    s3 = await startLocalS3({
      host: p.local.host,
      port: p.local.s3Port,
      directory: dataDir,
      buckets: p.buckets,
      // Through the upload queue, as on AWS (SQS-shaped messages, partial-batch responses,
      // dead letters reported through onStarterError).
      onInputEvent: (event) => {
        pendingEvents++;
        void uploads.send(event).finally(() => pendingEvents--);
      },
    });
    sfnServer = await startSfnServer(sfn, p.local.host, p.local.sfnPort);
  } catch (err) {
    await s3?.close();
    await sfn.close();
    throw err;
  }

  // The functions' environment: the same variables as on AWS, endpoints pointing here. A gallery
  // file is pushed to the meta bucket, where the recognition function reads it as on AWS.
  const galleryFile =
    base.galleryPath && !parseGalleryLocation(base.galleryPath) ? base.galleryPath : undefined;
  const env: Env = {
    ...baseEnv,
    AWS_REGION: region,
    AWS_ENDPOINT_URL_S3: s3.url,
    AWS_ENDPOINT_URL_SFN: sfnServer.url,
    STATE_MACHINE_ARN: sfn.stateMachineArn,
    ...(galleryFile ? { FACEREC_GALLERY: galleryLocation(p.buckets) } : {}),
  };
  const config = loadConfig(env as NodeJS.ProcessEnv);
  if (galleryFile) {
    try {
      await putGallery(s3Client(config.pipeline.aws), galleryLocation(p.buckets), readFileSync(galleryFile));
    } catch (err) {
      await Promise.all([sfnServer.close(), s3.close()]);
      throw new Error(`cannot push the gallery ${galleryFile} to the local S3: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  for (const name of Object.keys(functions) as FunctionName[]) {
    impl[name] = opts.handlers?.[name] ?? (await defaultHandler(name, config));
  }

  const recovery: Recovery =
    opts.recover === false ? { resumed: [] } : await recover(sfn, config, s3StartedAt);

  const info: StackInfo = {
    pid: process.pid,
    s3Endpoint: s3.url,
    sfnEndpoint: sfnServer.url,
    region,
    stateMachineArn: sfn.stateMachineArn,
    buckets: p.buckets,
    profile: p.profile,
    gallery: galleryFile ? path.resolve(galleryFile) : base.galleryPath,
    dataDir,
    ffmpeg,
    startedAt: new Date().toISOString(),
  };
  if (opts.advertise) {
    mkdirSync(p.local.dir, { recursive: true });
    writeFileSync(stackFile(p.local.dir), `${JSON.stringify(info, null, 2)}\n`);
  }

  let stopped = false;
  return {
    info,
    config,
    env,
    sfn,
    events,
    functions,
    recovery,
    async idle(pollMs = 100) {
      for (;;) {
        if (pendingEvents === 0 && sfn.runningCount === 0) return;
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
    async stop(graceMs = 0) {
      if (stopped) return;
      stopped = true;
      if (opts.advertise) {
        const current = readStackInfo(p.local.dir);
        if (current?.pid === process.pid && current.s3Endpoint === info.s3Endpoint) {
          rmSync(stackFile(p.local.dir), { force: true });
        }
      }
      await sfn.close(graceMs);
      await Promise.all([sfnServer!.close(), s3!.close()]);
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
      // The S3 server dates objects to the second (floored): keep a second clear of uploads
      // made since it started, whose events the starter handles.
      uploadedBefore: s3StartedAt - 1000,
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
  const p = loadConfig(env as NodeJS.ProcessEnv).pipeline;
  const journalDir = path.join(p.local.dir, 'executions');
  if (!existsSync(path.join(journalDir, 'journal.ndjson'))) return undefined;
  const prefix = bucketPrefixOf(p.buckets);
  const functions = (['splitter', 'recognition', 'result'] as const).map(
    (name) =>
      new LocalFunction({
        name: `${prefix}-${name}`,
        region: p.aws.region,
        timeoutSeconds: 1,
        concurrency: 1,
        handler: () => Promise.reject(new Error('no local stack runs')),
      }),
  );
  const [splitter, recognition, result] = functions;
  const sfn = new LocalStepFunctions({
    definition: loadDefinition(
      pipelineSubstitutions({
        splitter: splitter.arn,
        recognition: recognition.arn,
        result: result.arn,
        mapMaxConcurrency: p.stateMachine.mapMaxConcurrency,
      }),
    ),
    name: `${prefix}-pipeline`,
    functions,
    region: p.aws.region,
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
      dataDir: path.join(p.local.dir, 's3'),
      ffmpeg: '',
      startedAt: new Date().toISOString(),
    },
    close: () => server.close(),
  };
}
