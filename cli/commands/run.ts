/**
 * `facerec run <videos or folders...> --gallery <file> [--profile p]`: start the local stack if
 * none runs (or, with `--aws` / `--endpoint`, use a deployed pipeline), upload, follow each
 * execution, print a table (video, everyone recognized, faces, Unknown faces, frames, seconds)
 * and who appears when; exit 1 if any video failed (cli/lib/errors.ts). `--json` for scripts.
 * Warns when the stack's gallery holds nobody.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../functions/config.js';
import { DEFAULT_LOG_LEVEL, type Profile } from '../../functions/core/facts.js';
import { printable } from '../../functions/core/printable.js';
import { EXIT } from '../lib/errors.js';
import { checkLocalGallery } from '../lib/gallery-check.js';
import { table, seconds } from '../lib/history.js';
import { hasTimeline, peopleCell, peopleLines } from '../lib/people-text.js';
import { collectVideos, downloadOutputs, runVideos, type RunReport } from '../lib/pipeline-run.js';
import { progressPrinter } from '../lib/progress.js';
import {
  durationOption,
  profileOption,
  sampleConflict,
  sampleOption,
  withTargetOptions,
} from '../lib/options.js';
import { resolveTarget, type TargetFlags } from '../lib/target.js';
import {
  onShutdown,
  runStopNotice,
  TARGET_STACK_GRACE_MS,
  stackStopNotice,
  stackStoppedNotice,
  withdrawStackFile,
  type RunStanding,
} from '../lib/shutdown.js';

export interface RunFlags extends TargetFlags {
  gallery?: string;
  profile?: Profile;
  /** FACEREC_SAMPLE of a local stack started here. */
  sample?: string;
  json?: boolean;
  out?: string;
  /** Seconds. */
  timeout: number;
  keyPrefix?: string;
  verbose?: boolean;
}

/** Before `--key-prefix`, `run --prefix batch1/` was the key prefix; `--prefix` is now the bucket
 * prefix on every command. A value with a slash cannot be a bucket prefix: read it the old way. */
export function keyPrefixOf(flags: Pick<RunFlags, 'prefix' | 'keyPrefix'>): {
  keyPrefix: string;
  bucketPrefix?: string;
  note?: string;
} {
  if (flags.prefix?.includes('/') && flags.keyPrefix === undefined) {
    return {
      keyPrefix: flags.prefix,
      note: `note: --prefix ${flags.prefix} read as --key-prefix (its old meaning on \`run\`); --prefix is the bucket prefix now`,
    };
  }
  return { keyPrefix: flags.keyPrefix ?? '', bucketPrefix: flags.prefix };
}

/** The table (video, everyone recognized, faces, Unknown faces, frames, seconds), who appears when,
 * the failures with their reasons and records, and the totals. Keys, names and reasons are printed
 * through printable(). */
export function printReport(report: RunReport, out: NodeJS.WritableStream = process.stdout) {
  const rows = report.results.map((r) => [
    r.key,
    r.status === 'SUCCEEDED' ? (r.result ? peopleCell(r.result) : (r.name ?? '?')) : r.status,
    r.faces === undefined ? '-' : String(r.faces),
    r.result?.unknownFaces === undefined ? '-' : String(r.result.unknownFaces),
    r.frames === undefined ? '-' : String(r.frames),
    seconds(r.seconds === undefined ? undefined : r.seconds * 1000),
  ]);
  out.write(`${table(['video', 'people', 'faces', 'unknown', 'frames', 'seconds'], rows)}\n`);
  const timed = report.results.filter((r) => r.result && r.result.people.length > 0);
  if (hasTimeline(timed.map((r) => r.result))) {
    out.write('\nwho appears when (most screen time first):\n');
    for (const r of timed) {
      out.write(`  ${printable(r.key)}\n`);
      for (const line of peopleLines(r.result!)) out.write(`${line}\n`);
    }
  }
  const failed = report.results.filter((r) => r.status !== 'SUCCEEDED');
  for (const r of failed) {
    const text = `  ${r.key}: ${r.status}${r.error ? ` ${r.error}` : ''}${r.reason ? `: ${r.reason}` : ''}`;
    out.write(printable(text));
    out.write(
      r.errorKey
        ? `  (record: s3://${r.errorBucket ?? report.target.buckets.output}/${printable(r.errorKey)})\n`
        : '\n',
    );
  }
  const ok = report.results.length - failed.length;
  out.write(
    `\n${ok}/${report.results.length} videos processed, ${failed.length} failed; ` +
      `${report.wallSeconds.toFixed(1)} s from first upload to last result\n`,
  );
}

async function runCommand(inputs: string[], flags: RunFlags): Promise<number> {
  const config = loadConfig();
  const { keyPrefix, bucketPrefix, note } = keyPrefixOf(flags);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  if (note) log(note);
  const videos = await collectVideos(inputs, config.pipeline.video.extensions, keyPrefix);
  if (videos.length === 0) {
    console.error(
      printable(
        `no videos in ${inputs.join(', ')} (extensions: ${config.pipeline.video.extensions.join(', ')})`,
      ),
    );
    return EXIT.usage;
  }
  const remote = flags.aws || flags.endpoint;
  if (remote && (flags.gallery || flags.profile || flags.sample)) {
    log(
      'note: --gallery, --profile and --sample only apply to a local stack started here; a deployed pipeline has its own',
    );
  }
  const conflict = sampleConflict({
    sample: flags.sample,
    profile: flags.profile ?? config.pipeline.profile,
  });
  if (conflict) {
    console.error(conflict);
    return 2;
  }
  const target = await resolveTarget(
    { ...flags, prefix: bucketPrefix },
    {
      local: 'start',
      stateMachine: 'required',
      stack: remote
        ? undefined
        : {
            profile: flags.profile,
            gallery: flags.gallery ?? config.galleryPath,
            logLevel: flags.verbose ? DEFAULT_LOG_LEVEL : 'ERROR',
            ...(flags.sample ? { env: { FACEREC_SAMPLE: flags.sample } } : {}),
          },
    },
  );
  const stack = target.stack;
  if (stack) {
    log(
      `local stack: S3 ${stack.info.s3Endpoint}, Step Functions ${stack.info.sfnEndpoint} (profile ${stack.info.profile}${stack.info.sampling ? `, sampling ${stack.info.sampling}` : ''})`,
    );
    log(`${stack.info.ffmpeg}`);
  } else if (target.local) {
    log(`using the local stack of \`facerec up\` (pid ${target.local.pid}, profile ${target.local.profile})`);
  } else log(`pipeline: ${target.description}`);
  const gallery = await checkLocalGallery(target).catch(async (err: unknown) => {
    await target.close();
    throw err;
  });
  if (gallery) log(gallery.line);
  const progress = progressPrinter(!flags.json || process.stderr.isTTY === true);
  let standing: RunStanding | undefined;
  // Ctrl-C / SIGTERM: say what happens to the videos in flight, stop in order (cli/lib/shutdown.ts).
  const stopOnSignal = onShutdown({
    stop: async () => {
      progress.done();
      log(`\n${runStopNotice(standing, target)}`);
      if (target.stack) log(stackStopNotice(target.stack, TARGET_STACK_GRACE_MS));
      await target.close();
      if (target.stack) log(stackStoppedNotice(target.stack));
    },
    force: () => {
      if (target.stack) withdrawStackFile(target.stack.config.pipeline.local.dir);
    },
  });
  let report: RunReport;
  try {
    report = await runVideos({
      videos,
      target,
      timeoutSec: flags.timeout,
      onProgress: (p) => {
        standing = p;
        progress.update(p);
      },
    });
  } catch (err) {
    stopOnSignal();
    throw err;
  } finally {
    progress.done();
  }
  try {
    if (flags.out) {
      const files = await downloadOutputs(report, flags.out);
      log(`outputs copied to ${path.resolve(flags.out)} (${files.length} files)`);
    }
    if (flags.json) {
      const summary = {
        videos: report.results.length,
        succeeded: report.results.filter((r) => r.status === 'SUCCEEDED').length,
        failed: report.results.filter((r) => r.status !== 'SUCCEEDED').length,
        firstUploadAt: new Date(report.firstUploadAt).toISOString(),
        lastUploadAt: new Date(report.uploadedAt).toISOString(),
        lastResultAt: new Date(report.lastDoneAt).toISOString(),
        wallSeconds: report.wallSeconds,
        outputBucket: target.buckets.output,
      };
      const videos = report.results.map(({ result, ...r }) => ({
        ...r,
        people: result?.people,
        ...(result?.peopleTotal !== undefined ? { peopleTotal: result.peopleTotal } : {}),
        unknownFaces: result?.unknownFaces,
      }));
      process.stdout.write(`${JSON.stringify({ summary, videos }, null, 2)}\n`);
    } else {
      printReport(report);
      // The local store names files by hashes of the keys: point at the tools that read it.
      const where = target.local ? ` (local S3 ${target.local.s3Endpoint}; --out <dir> copies them out)` : '';
      console.log(`outputs: s3://${target.buckets.output}/${where}`);
    }
  } finally {
    stopOnSignal();
    await target.close();
  }
  return report.results.every((r) => r.status === 'SUCCEEDED') ? EXIT.done : EXIT.failed;
}

export function registerRun(program: Command): void {
  withTargetOptions(program.command('run'), { stateMachine: true, keyPrefixToo: true })
    .description('process videos through the pipeline (starts the local stack if none runs)')
    .argument('<videos...>', 'video files or folders of videos')
    .option(
      '--gallery <file>',
      'local stack started here: gallery of known people (default: FACEREC_GALLERY)',
    )
    .addOption(
      profileOption(
        'local stack started here: ' +
          'frame sampling and output layout (default: FACEREC_PROFILE or default)',
      ),
    )
    .addOption(sampleOption())
    .option('--json', 'print the results as JSON')
    .option('--out <dir>', 'copy the outputs (.txt, .json, error records) into this folder')
    .option(
      '--key-prefix <prefix>',
      'key prefix in the input bucket, e.g. "batch1/" (old spelling: --prefix batch1/)',
    )
    .addOption(
      durationOption('--timeout <duration>', 'stop waiting for the executions after this long', '600s'),
    )
    .option('--verbose', "local stack started here: show the functions' logs")
    .action(async (videos: string[], flags: RunFlags) => {
      process.exitCode = await runCommand(videos, flags);
    });
}
