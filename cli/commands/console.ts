/**
 * `facerec console`: the web console against a running local stack, or a deployed pipeline
 * (`--aws` through the SDK's credential chain, `--endpoint`). `facerec up` serves the same
 * console beside its stack.
 */
import type { Command } from 'commander';
import { consoleTargetOf, DEFAULT_CONSOLE_PORT, serveConsole } from '../console/console-target.js';
import { ConsoleSource } from '../console/source.js';
import { withTargetOptions } from '../lib/options.js';
import { configWith, resolveTarget, type TargetFlags } from '../lib/target.js';

interface ConsoleFlags extends TargetFlags {
  port: string;
  gallery?: string;
  people?: string;
}

async function consoleCommand(flags: ConsoleFlags): Promise<number> {
  const resolved = await resolveTarget(flags, {
    local: 'running',
    stateMachine: 'required',
    noStack: 'no local stack runs: start one with `facerec up` (it serves the console too), or pass --aws',
  });
  const opened = consoleTargetOf(resolved, {
    people: flags.people,
    gallery: flags.gallery,
    configuredGallery: configWith(flags).galleryPath,
  });
  const server = await serveConsole(new ConsoleSource(opened.target), Number(flags.port));
  console.log(`facerec console  ${server.url}   (${opened.target.description}; Ctrl-C stops)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await opened.close();
  return 0;
}

export function registerConsole(program: Command): void {
  withTargetOptions(program.command('console'), { stateMachine: true })
    .description(
      'web console on 127.0.0.1: state machine, executions, results with annotated frames, gallery',
    )
    .option('--port <port>', `port (0 for any free one)`, String(DEFAULT_CONSOLE_PORT))
    .option(
      '--gallery <file>',
      'gallery to show (file or s3://bucket/key; default: the one the pipeline uses, s3://<prefix>-meta/gallery/gallery.json)',
    )
    .option('--people <folder>', 'the folder the gallery was enrolled from, to show the photos')
    .action(async (flags: ConsoleFlags) => {
      process.exitCode = await consoleCommand(flags);
    });
}
