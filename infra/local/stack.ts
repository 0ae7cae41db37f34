/**
 * The embedded local stack: a local S3 server with the three buckets, a local Step Functions
 * endpoint running statemachine/pipeline.asl.json, and the four functions in this process.
 *
 * What differs from AWS is only the wiring: the functions get the same environment variables
 * (with endpoint URLs pointing at the local servers), S3 events of the input bucket invoke the
 * starter as S3 would, and the state machine's Lambda Tasks invoke the in-process handlers
 * (infra/local/lambda.ts) instead of the Lambda service.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../functions/config.js';
import { describeFfmpeg, ffmpegVersion, resolveFfmpeg } from '../../functions/core/ffmpeg-binary.js';
import { galleryLocation, type BucketNames } from '../../functions/core/layout.js';
import { s3Client } from '../../functions/aws/clients.js';
import { parseGalleryLocation, putGallery } from '../../functions/aws/gallery-source.js';
import type { FunctionName } from '../../functions/aws/middleware.js';
import { loadDefinition } from './definition.js';
import { LambdaFunctionError, LocalFunction, type LambdaHandler } from './lambda.js';
import { LocalQueue } from './queue.js';
import { LocalEventBus, PUT_EVENTS_RESOURCE } from './events.js';
import { startLocalS3, type LocalS3 } from './s3.js';
import { startSfnServer, type SfnServer } from './sfn-server.js';
import { LocalStepFunctions } from './stepfunctions.js';

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
}

/** What other processes read to find a running stack. */
export interface StackInfo {
  pid: number;
  s3Endpoint: string;
  sfnEndpoint: string;
  region: string;
  stateMachineArn: string;
  buckets: BucketNames;
  profile: string;
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
  const prefix = p.buckets.input.replace(/-input$/, '');
  const fn = (name: FunctionName, timeoutSeconds: number, n: number) =>
    new LocalFunction({
      name: `${prefix}-${name}`,
      handler: (event, context) => impl[name]!(event, context),
      timeoutSeconds,
      concurrency: n,
      region,
    });
  const functions: Record<FunctionName, LocalFunction> = {
    starter: fn('starter', 60, 4),
    splitter: fn('splitter', 120, concurrency),
    recognition: fn('recognition', 120, concurrency),
    result: fn('result', 60, 4),
  };
  const definition = loadDefinition({
    SplitterFunctionArn: functions.splitter.arn,
    RecognitionFunctionArn: functions.recognition.arn,
    ResultFunctionArn: functions.result.arn,
    MapMaxConcurrency: p.stateMachine.mapMaxConcurrency,
    EventBusName: 'default',
  });
  const events = new LocalEventBus();
  const sfn = new LocalStepFunctions({
    definition,
    name: `${prefix}-pipeline`,
    functions: Object.values(functions),
    region,
    services: { [PUT_EVENTS_RESOURCE]: events.putEvents },
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
