/**
 * `facerec up`: run the local stack in the foreground (S3 and Step Functions endpoints, the four
 * functions), print how to reach it, report each execution as it ends, stop cleanly on Ctrl-C.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_LOCAL_S3_PORT, DEFAULT_LOCAL_SFN_PORT, ENV, loadConfig } from '../../functions/config.js';
import { DEFAULT_LOG_LEVEL, type Profile } from '../../functions/core/facts.js';
import { ResultOutputSchema, VideoObjectSchema } from '../../functions/core/contracts.js';
import { startLocalStack, type Env, type Recovery, type StackInfo } from '../../infra/local/stack.js';
import type { ExecutionRecord } from '../../infra/local/sfn/service.js';
import type { BusEvent } from '../../infra/local/events.js';
import { DEFAULT_CONSOLE_PORT, localConsoleTarget, serveConsole } from '../console/console-target.js';
import { ConsoleSource } from '../console/source.js';
import { printable } from '../../functions/core/printable.js';
import { describeError, portTakenMessage, type PortOptions } from '../lib/errors.js';
import { checkLocalGallery } from '../lib/gallery-check.js';
import { findRunningStack, preflight } from '../lib/local-stack.js';
import { parsePort, profileOption, sampleConflict, sampleOption } from '../lib/options.js';
import { peopleCell } from '../lib/people-text.js';
import { reasonOf } from '../lib/pipeline-run.js';
import { onShutdown, stackStopNotice, stackStoppedNotice, withdrawStackFile } from '../lib/shutdown.js';
import { closeTarget, localTarget } from '../lib/target.js';

interface UpFlags {
  gallery?: string;
  profile?: Profile;
  /** FACEREC_SAMPLE. */
  sample?: string;
  s3Port?: string;
  sfnPort?: string;
  verbose?: boolean;
  /** false with --no-console. */
  console?: boolean;
  consolePort?: string;
  people?: string;
}

/** The video key of an execution (its input), printable. */
function keyOf(r: ExecutionRecord): string {
  const input = VideoObjectSchema.safeParse(JSON.parse(r.input));
  return printable(input.success ? input.data.key : r.name);
}

/** One line per finished execution: everyone recognized and how many faces stayed Unknown, or
 * the error. Keys, names and reasons are printed through printable(): a key cannot forge a line. */
export function describeExecution(r: ExecutionRecord): string {
  const key = keyOf(r);
  const secs = (((r.stopDate ?? Date.now()) - r.startDate) / 1000).toFixed(2);
  if (r.status === 'SUCCEEDED') {
    const out = ResultOutputSchema.safeParse(JSON.parse(r.output ?? 'null'));
    if (out.success) {
      const o = out.data;
      const unknown = o.unknownFaces === undefined ? '' : `, ${o.unknownFaces} Unknown`;
      return `done    ${key} -> ${peopleCell(o, 120)}  (${o.faces} faces${unknown}, ${o.frames} frames, ${secs} s)`;
    }
  }
  const why = printable(`${r.error ?? ''}${r.cause ? ` ${reasonOf(r.cause)}` : ''}`);
  return `${r.status.toLowerCase().padEnd(7)} ${key}: ${why} (${secs} s)`;
}

/** What a stack did on start to pick up after the previous one (resumed, reconciled). */
export function recoveryLines(r: Recovery): string[] {
  const lines: string[] = [];
  if (r.resumed.length) {
    lines.push(`resumed ${r.resumed.length} executions that were running when the last stack stopped:`);
    for (const rec of r.resumed) lines.push(`  ${keyOf(rec)}  (${rec.name}, redrive ${rec.redriveCount})`);
  }
  if (r.reconcile?.started.length) {
    lines.push(
      `started ${r.reconcile.started.length} uploads that had no output, error record or execution:`,
    );
    for (const s of r.reconcile.started) lines.push(`  ${printable(s.key)}  (${s.name})`);
  }
  for (const s of r.reconcile?.skipped ?? [])
    lines.push(`not started: ${printable(s.key)}: ${printable(s.reason)}`);
  if (r.reconcileError) lines.push(`reconcile failed (${r.reconcileError}); \`facerec reconcile\` retries`);
  return lines;
}

/** What `facerec up` prints on start: where everything is and how to use it. */
function stackBanner(info: StackInfo, consoleUrl: string | undefined, galleryLine?: string): string {
  return `facerec local stack (pid ${info.pid}), profile ${info.profile}${info.sampling ? `, sampling ${info.sampling}` : ''}
  S3              ${info.s3Endpoint}   buckets: ${info.buckets.input} (upload here), ${info.buckets.stage1}, ${info.buckets.output}
  Step Functions  ${info.sfnEndpoint}   state machine: ${info.stateMachineArn}
  console         ${consoleUrl ? `${consoleUrl}   (executions, graph, results, gallery)` : 'off (--no-console)'}
  gallery         ${galleryLine ?? printable(info.gallery ?? `the meta bucket's (s3://${info.buckets.meta}/)`)}
  ${info.ffmpeg}
  data            ${info.dataDir}

Upload videos to s3://${info.buckets.input}/ and results appear in s3://${info.buckets.output}/<video>.txt.
  facerec run <videos...>           uploads and follows them (uses this stack)
  facerec executions --watch        executions with per-state timings
  AWS CLI: export AWS_ENDPOINT_URL_S3=${info.s3Endpoint} AWS_ENDPOINT_URL_SFN=${info.sfnEndpoint} \\
             AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=${info.region}
           aws s3 cp video.mp4 s3://${info.buckets.input}/ && aws s3 ls s3://${info.buckets.output}/
           aws stepfunctions list-executions --state-machine-arn ${info.stateMachineArn}
Ctrl-C stops.
`;
}

async function upCommand(flags: UpFlags): Promise<number> {
  const env: Env = {
    ...(flags.profile ? { [ENV.FACEREC_PROFILE]: flags.profile } : {}),
    ...(flags.sample ? { [ENV.FACEREC_SAMPLE]: flags.sample } : {}),
    ...(flags.gallery ? { [ENV.FACEREC_GALLERY]: path.resolve(flags.gallery) } : {}),
    ...(flags.s3Port ? { [ENV.FACEREC_LOCAL_S3_PORT]: flags.s3Port } : {}),
    ...(flags.sfnPort ? { [ENV.FACEREC_LOCAL_SFN_PORT]: flags.sfnPort } : {}),
    [ENV.FACEREC_LOG_LEVEL]: flags.verbose
      ? DEFAULT_LOG_LEVEL
      : (process.env[ENV.FACEREC_LOG_LEVEL] ?? 'ERROR'),
  };
  const config = loadConfig({ ...process.env, ...env } as NodeJS.ProcessEnv);
  const conflict = sampleConflict({ sample: flags.sample, profile: config.pipeline.profile });
  if (conflict) {
    console.error(conflict);
    return 2;
  }
  const running = await findRunningStack(config.pipeline.local.dir);
  if (running) {
    console.error(
      `a local stack already runs (pid ${running.pid}): S3 ${running.s3Endpoint}, Step Functions ${running.sfnEndpoint}`,
    );
    return 1;
  }
  await preflight(config);
  const ports: PortOptions = {
    [config.pipeline.local.s3Port]: '--s3-port <port> (or FACEREC_LOCAL_S3_PORT)',
    [config.pipeline.local.sfnPort]: '--sfn-port <port> (or FACEREC_LOCAL_SFN_PORT)',
  };
  const stack = await startLocalStack({
    env,
    advertise: true,
    onStarterError: (err) =>
      console.error(printable(`starter failed on an upload: ${err.errorType}: ${err.errorMessage}`)),
    onUploadSkipped: ({ key, reason }) => console.error(printable(`upload not processed: ${key}: ${reason}`)),
  }).catch((err: NodeJS.ErrnoException) => {
    if (err?.code === 'EADDRINUSE') throw new Error(portTakenMessage(err, ports), { cause: err });
    throw err;
  });
  const i = stack.info;
  const web =
    flags.console === false
      ? undefined
      : await (async () => {
          const opened = localConsoleTarget(i, { people: flags.people });
          const server = await serveConsole(
            new ConsoleSource(opened.target),
            Number(flags.consolePort ?? DEFAULT_CONSOLE_PORT),
          );
          return { server, close: async () => (await server.close(), opened.close()) };
        })();
  // Ctrl-C / SIGTERM: say what happens to the videos in flight, stop in order (cli/lib/shutdown.ts).
  // Handled from here on, before anything printed tells a watcher that the stack is up: a signal
  // right after the banner or the recovery lines must stop the stack in order, not kill it.
  const graceMs = 5000;
  const stopped = new Promise<void>((resolve) => {
    onShutdown({
      stop: async () => {
        console.error(`\n${stackStopNotice(stack, graceMs)}`);
        await web?.close();
        await stack.stop(graceMs);
        console.error(stackStoppedNotice(stack));
        resolve();
        return 0;
      },
      force: () => withdrawStackFile(stack.config.pipeline.local.dir),
    });
  });
  const probe = localTarget(i);
  const gallery = await checkLocalGallery(probe)
    .catch((err: unknown) => ({ line: `warning: cannot read the gallery: ${describeError(err)}` }))
    .finally(() => closeTarget(probe));
  console.log(stackBanner(i, web?.server.url, gallery?.line));
  for (const line of recoveryLines(stack.recovery)) console.log(line);
  stack.sfn.on('started', (r: ExecutionRecord) => console.log(`started ${keyOf(r)}  (${r.name})`));
  stack.sfn.on('finished', (r: ExecutionRecord) => console.log(describeExecution(r)));
  if (flags.verbose) {
    // What EventBridge would receive on AWS (source facerec), one per finished or failed video.
    stack.events.on('event', (e: BusEvent) =>
      console.log(printable(`event   ${e.detailType}: ${JSON.stringify(e.detail)}`)),
    );
  }

  await stopped;
  return 0;
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('run the local stack (S3 + Step Functions endpoints) and process uploads as they arrive')
    .option('--gallery <file>', 'gallery of known people (default: FACEREC_GALLERY)')
    .addOption(profileOption())
    .addOption(sampleOption())
    .option('--s3-port <port>', `S3 endpoint port (default ${DEFAULT_LOCAL_S3_PORT}, 0 for any)`, parsePort())
    .option(
      '--sfn-port <port>',
      `Step Functions endpoint port (default ${DEFAULT_LOCAL_SFN_PORT}, 0 for any)`,
      parsePort(),
    )
    .option('--verbose', "print the functions' logs")
    .option(
      '--console-port <port>',
      `web console port (default ${DEFAULT_CONSOLE_PORT}; any free one if taken)`,
      parsePort(),
    )
    .option('--no-console', 'do not serve the web console')
    .option('--people <folder>', 'the folder the gallery was enrolled from (photos in the console)')
    .action(async (flags: UpFlags) => {
      process.exitCode = await upCommand(flags);
    });
}
