/**
 * `facerec console` (the web console against a running local stack, or `--aws` a deployed
 * pipeline through the SDK's credential chain), `facerec report` (one video as a self-contained
 * HTML file), and the console `facerec up` serves beside its stack.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { loadConfig } from '../../functions/config.js';
import { outputKeys, videoStem } from '../../functions/core/layout.js';
import type { StackInfo } from '../../infra/local/stack.js';
import { configWith, localReadTarget, type S3Target } from '../lib/target.js';
import { closeTarget, findRunningStack, localTarget } from '../lib/stack-client.js';
import { jpegDataUri, reportHtml, type ReportData } from '../console/report.js';
import { resultView } from '../console/result-view.js';
import { startConsoleServer, type ConsoleServer } from '../console/server.js';
import { ConsoleSource, type ConsoleTarget } from '../console/source.js';

export const DEFAULT_CONSOLE_PORT = 8084;

/** The folder a gallery was enrolled from: given, else `people/` beside the gallery file (the
 * demo's layout), when it exists. */
export function peopleDirFor(gallery: string | undefined, given?: string): string | undefined {
  if (given) return path.resolve(given);
  if (!gallery || gallery.startsWith('s3://')) return undefined;
  const beside = path.join(path.dirname(path.resolve(gallery)), 'people');
  return existsSync(beside) ? beside : undefined;
}

export function localConsoleTarget(info: StackInfo, opts: { people?: string; gallery?: string } = {}) {
  const t = localTarget(info);
  const gallery = opts.gallery ?? info.gallery;
  const target: ConsoleTarget = {
    s3: t.s3,
    sfn: t.sfn,
    buckets: t.buckets,
    profile: info.profile,
    stateMachineArn: t.stateMachineArn,
    description: `local stack, pid ${info.pid}, profile ${info.profile}`,
    gallery,
    peopleDir: peopleDirFor(gallery, opts.people),
  };
  return { target, close: () => closeTarget(t) };
}

interface AwsFlags {
  region?: string;
  prefix?: string;
  stateMachineArn?: string;
  gallery?: string;
  people?: string;
}

/** A deployed pipeline, through the SDK's own chain for credentials and region. */
export async function awsConsoleTarget(flags: AwsFlags) {
  const config = configWith({ prefix: flags.prefix });
  const s3 = new S3Client({ ...(flags.region ? { region: flags.region } : {}), maxAttempts: 4 });
  let region: string;
  try {
    region = await s3.config.region();
  } catch {
    region = 'us-east-1';
  }
  const sfn = new SFNClient({ region, maxAttempts: 4 });
  const s3r = new S3Client({ region, maxAttempts: 4 });
  s3.destroy();
  const stateMachineArn = flags.stateMachineArn ?? config.pipeline.stateMachineArn;
  if (!stateMachineArn)
    throw new Error(
      '--aws needs the state machine: --state-machine-arn <arn> or STATE_MACHINE_ARN (a stack output)',
    );
  const gallery = flags.gallery ?? config.galleryPath;
  const target: ConsoleTarget = {
    s3: s3r,
    sfn,
    buckets: config.pipeline.buckets,
    profile: config.pipeline.profile,
    stateMachineArn,
    description: `AWS ${region}, ${stateMachineArn.split(':').at(-1)}`,
    gallery,
    peopleDir: peopleDirFor(gallery, flags.people),
  };
  return {
    target,
    close: () => {
      s3r.destroy();
      sfn.destroy();
    },
  };
}

/** Listen on the given port, or any free one when it is taken. */
export async function serveConsole(source: ConsoleSource, port: number): Promise<ConsoleServer> {
  try {
    return await startConsoleServer({ source, port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
    return startConsoleServer({ source, port: 0 });
  }
}

interface ConsoleFlags extends AwsFlags {
  aws?: boolean;
  port: string;
}

async function consoleCommand(flags: ConsoleFlags): Promise<number> {
  let opened: { target: ConsoleTarget; close: () => void };
  if (flags.aws) opened = await awsConsoleTarget(flags);
  else {
    const running = await findRunningStack(loadConfig().pipeline.local.dir);
    if (!running) {
      console.error(
        'no local stack runs: start one with `facerec up` (it serves the console too), or pass --aws',
      );
      return 1;
    }
    opened = localConsoleTarget(running, flags);
  }
  const server = await serveConsole(new ConsoleSource(opened.target), Number(flags.port));
  console.log(`facerec console  ${server.url}   (${opened.target.description}; Ctrl-C stops)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  opened.close();
  return 0;
}

interface ReportFlags extends AwsFlags {
  out: string;
  aws?: boolean;
}

/** The buckets (and Step Functions, when there are some) a report reads from. */
async function reportTarget(
  flags: ReportFlags,
): Promise<{ target?: ConsoleTarget; close: () => Promise<void>; note?: string }> {
  if (flags.aws) {
    const t = await awsConsoleTarget(flags).catch(async (err: Error) => {
      if (!/state machine/.test(err.message)) throw err;
      // Without a state machine a report still has the result and its frames.
      const config = configWith({ prefix: flags.prefix });
      const s3 = new S3Client({ ...(flags.region ? { region: flags.region } : {}), maxAttempts: 4 });
      return {
        target: { s3, buckets: config.pipeline.buckets, description: 'AWS' } as ConsoleTarget,
        close: () => s3.destroy(),
      };
    });
    return { target: t.target, close: async () => t.close() };
  }
  const running = await findRunningStack(configWith({ prefix: flags.prefix }).pipeline.local.dir);
  if (running) {
    const t = localConsoleTarget(running, flags);
    return { target: t.target, close: async () => t.close() };
  }
  let stopped: S3Target;
  try {
    stopped = await localReadTarget(flags);
  } catch (err) {
    return { close: async () => undefined, note: (err as Error).message };
  }
  return {
    target: { s3: stopped.s3, buckets: stopped.buckets, description: stopped.description },
    close: () => stopped.close(),
    note: 'no local stack runs: the execution history is not available (a stopped stack keeps only its buckets)',
  };
}

/** `given`: the pipeline to read (else the running local stack, the data of a stopped one, or
 * AWS with --aws); it is closed at the end. */
export async function buildReport(
  input: string,
  flags: ReportFlags,
  given?: { target: ConsoleTarget; close: () => void },
): Promise<{ html: string; data: ReportData }> {
  const notes: string[] = [];
  const opened: { target?: ConsoleTarget; close: () => Promise<void> | void; note?: string } =
    given ?? (await reportTarget(flags));
  try {
    const source = opened.target ? new ConsoleSource(opened.target) : undefined;
    if (opened.note) notes.push(opened.note);
    let detail: unknown;
    let key: string;
    if (input.endsWith('.json') && existsSync(input)) {
      detail = JSON.parse(await readFile(input, 'utf8'));
      key = path.basename(input, '.json');
    } else {
      // A video: its key is its file name, as `facerec run` uploads it; else the argument is a key.
      key = existsSync(input) ? path.basename(input) : input;
      if (!source) throw new Error(`cannot read the result of ${key}: ${opened.note}`);
      const keys = outputKeys(videoStem(key));
      const text = await source.text(source.target.buckets.output, keys.detail);
      if (text === undefined) {
        const where = source.failureRecord(key);
        const record = await source.text(where.bucket, where.key);
        const reason = record ? (JSON.parse(record) as { reason?: string }).reason : undefined;
        throw new Error(
          record
            ? `${key} failed: ${reason ?? 'see'} (${where.bucket}/${where.key})`
            : `no result for ${key}: ${source.target.buckets.output}/${keys.detail} is missing (is it processed, with a profile that writes the detail JSON?)`,
        );
      }
      detail = JSON.parse(text);
    }
    const result = resultView(detail, { key });
    const images: Record<number, string> = {};
    let execution;
    if (source) {
      for (const f of result.frames) {
        if (!f.faces.length && !f.error) continue;
        const bytes = await source.annotatedFrame(result, f.index).catch(() => undefined);
        if (bytes) images[f.index] = jpegDataUri(bytes);
      }
      const missing = result.frames.filter((f) => f.faces.length && !images[f.index]).length;
      if (missing)
        notes.push(`${missing} frame image(s) could not be read from ${source.target.buckets.stage1}`);
      if (result.execution && source.target.sfn && source.target.stateMachineArn) {
        try {
          execution = { ...(await source.execution(result.execution)), result };
        } catch (err) {
          notes.push(`the execution could not be read (${(err as Error).name}): no graph or history`);
        }
      }
    } else notes.push('no buckets to read the frames from');
    const data: ReportData = {
      result,
      ...(execution ? { execution, graph: source!.graph() } : {}),
      images,
      notes,
      generated: `facerec report, ${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC`,
    };
    return { html: reportHtml(data), data };
  } finally {
    await opened.close();
  }
}

export function registerConsole(program: Command): void {
  program
    .command('console')
    .description(
      'web console on 127.0.0.1: state machine, executions, results with annotated frames, gallery',
    )
    .option('--port <port>', `port (0 for any free one)`, String(DEFAULT_CONSOLE_PORT))
    .option('--aws', "a deployed pipeline (the SDK's credentials and region) instead of the local stack")
    .option('--state-machine-arn <arn>', 'with --aws: the state machine (default: STATE_MACHINE_ARN)')
    .option('--prefix <prefix>', 'with --aws: bucket prefix (default: FACEREC_BUCKET_PREFIX)')
    .option('--region <region>', 'with --aws: region (default: the SDK chain)')
    .option('--gallery <file>', "gallery to show (file or s3://bucket/key; default: the stack's)")
    .option('--people <folder>', 'the folder the gallery was enrolled from, to show the photos')
    .action(async (flags: ConsoleFlags) => {
      process.exitCode = await consoleCommand(flags);
    });
  program
    .command('report')
    .description(
      'one processed video as a self-contained HTML file (result, timeline, annotated frames, execution)',
    )
    .argument('<result>', 'a <stem>.json result file, or a video (file or key) processed by the pipeline')
    .option('--out <file>', 'HTML file to write', 'report.html')
    .option('--aws', "read a deployed pipeline's buckets (the SDK's credentials and region)")
    .option('--state-machine-arn <arn>', 'with --aws: also read the execution from this state machine')
    .option('--prefix <prefix>', 'bucket prefix (default: FACEREC_BUCKET_PREFIX)')
    .option('--region <region>', 'with --aws: region (default: the SDK chain)')
    .action(async (input: string, flags: ReportFlags) => {
      const { html, data } = await buildReport(input, flags);
      await writeFile(flags.out, html);
      const kb = (Buffer.byteLength(html) / 1024).toFixed(0);
      console.log(
        `${flags.out}: ${data.result.video.key} -> ${data.result.name}, ${Object.keys(data.images).length} annotated frame(s), ${kb} KiB`,
      );
      for (const n of data.notes) console.log(`  note: ${n}`);
    });
}
