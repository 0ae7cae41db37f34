/**
 * `facerec executions [--watch]`: the executions of the pipeline with status and per-state
 * timings, the local stand-in for watching the Step Functions console. It reads the local stack
 * of `facerec up`, else the state machine of STATE_MACHINE_ARN (AWS or any endpoint), else the
 * executions a stopped local stack journaled; `--aws` / `--endpoint` as on every command.
 */
import type { Command } from 'commander';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type ExecutionListItem,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { AWS_REQUESTS_AT_ONCE, mapLimit } from '../../functions/core/concurrency.js';
import { ResultOutputSchema, VideoObjectSchema } from '../../functions/core/contracts.js';
import { peopleCell } from '../lib/people-text.js';
import { seconds, stateTimings, table } from '../lib/history.js';
import { reasonOf } from '../lib/pipeline-run.js';
import { durationOption, parseChoice, parseCount, withTargetOptions } from '../lib/options.js';
import { resolveTarget, type PipelineTarget as Target, type TargetFlags } from '../lib/target.js';

interface ExecFlags extends TargetFlags {
  watch?: boolean;
  limit: number;
  status?: string;
  json?: boolean;
  /** Seconds. */
  interval: number;
}

/** Step Functions' execution statuses (ListExecutions statusFilter). */
const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];

const SHORT: Record<string, string> = {
  'Split video into frames': 'split',
  'Recognize faces in frame batches': 'map',
  'Recognize faces': 'recognize',
  'Write result': 'result',
  'Write failure record': 'record',
};

async function history(target: Target, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await target.sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 1000,
        nextToken,
        includeExecutionData: false,
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

async function listExecutionRows(target: Target, flags: Pick<ExecFlags, 'limit' | 'status'>) {
  const page = await target.sfn.send(
    new ListExecutionsCommand({
      stateMachineArn: target.stateMachineArn,
      maxResults: flags.limit,
      ...(flags.status ? { statusFilter: flags.status.toUpperCase() as never } : {}),
    }),
  );
  const items: ExecutionListItem[] = page.executions ?? [];
  return mapLimit(items, AWS_REQUESTS_AT_ONCE, async (e) => {
    const [d, events] = await Promise.all([
      target.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn! })),
      history(target, e.executionArn!),
    ]);
    const input = VideoObjectSchema.safeParse(JSON.parse(d.input ?? 'null'));
    const output = d.status === 'SUCCEEDED' ? ResultOutputSchema.safeParse(parseJson(d.output)) : undefined;
    const result = output?.success ? output.data : undefined;
    const timings = stateTimings(events);
    const t = (name: string) => timings.find((x) => x.name === name);
    const start = e.startDate?.getTime() ?? Date.now();
    return {
      name: e.name!,
      video: input.success ? input.data.key : '?',
      status: e.status!,
      startDate: e.startDate?.toISOString(),
      totalMs: (e.stopDate?.getTime() ?? Date.now()) - start,
      states: Object.fromEntries(
        timings.map((x) => [
          SHORT[x.name] ?? x.name,
          { count: x.count, totalMs: x.totalMs, spanMs: x.spanMs, running: x.running },
        ]),
      ),
      split: t('Split video into frames')?.spanMs,
      map: t('Recognize faces in frame batches')?.spanMs,
      recognize: t('Recognize faces'),
      result: t('Write result')?.spanMs,
      error: d.error,
      reason: reasonOf(d.cause),
      /** A processed video's execution output: the vote's name, everyone recognized (most screen
       * time first, with when they appear), faces and Unknown faces. */
      output: result,
    };
  });
}

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? 'null');
  } catch {
    return null;
  }
}

async function render(target: Target, flags: ExecFlags): Promise<string> {
  const rows = await listExecutionRows(target, flags);
  if (flags.json) return JSON.stringify(rows, null, 2);
  const lines = rows.map((r) => [
    r.video,
    r.status,
    r.output ? peopleCell(r.output, 40) : '',
    r.output?.unknownFaces === undefined ? '-' : String(r.output.unknownFaces),
    r.startDate ? r.startDate.slice(11, 19) : '-',
    seconds(r.totalMs),
    seconds(r.split),
    seconds(r.map),
    r.recognize ? `${r.recognize.count}x ${seconds(r.recognize.totalMs)}` : '-',
    seconds(r.result),
    r.error ? `${r.error}: ${r.reason ?? ''}`.slice(0, 80) : '',
  ]);
  return table(
    [
      'video',
      'status',
      'people',
      'unknown',
      'started',
      'total s',
      'split s',
      'map s',
      'recognize (n x s)',
      'result s',
      'error',
    ],
    lines,
  );
}

async function executionsCommand(flags: ExecFlags): Promise<number> {
  const target = await resolveTarget(flags, { local: 'read', stateMachine: 'required' });
  if (target.journaled && !flags.json) console.error(`no local stack runs: ${target.description}`);
  try {
    if (!flags.watch) {
      console.log(await render(target, flags));
      return 0;
    }
    let stop = false;
    process.on('SIGINT', () => (stop = true));
    while (!stop) {
      const text = await render(target, flags);
      process.stdout.write(
        `\x1b[2J\x1b[H${new Date().toISOString().slice(11, 19)}  ${target.stateMachineArn}\n\n${text}\n`,
      );
      for (let waited = 0; waited < flags.interval * 1000 && !stop; waited += 100) {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return 0;
  } finally {
    await target.close();
  }
}

export function registerExecutions(program: Command): void {
  withTargetOptions(program.command('executions'), { stateMachine: true })
    .description('list the executions with status and per-state timings (local stack, or STATE_MACHINE_ARN)')
    .option('--watch', 'refresh until Ctrl-C')
    .option('--limit <n>', 'newest executions to show', parseCount('--limit', 1), 20)
    .option(
      '--status <status>',
      `only executions with this status: ${EXECUTION_STATUSES.join(' | ')} (any case)`,
      parseChoice(EXECUTION_STATUSES, { upperCase: true }),
    )
    .addOption(durationOption('--interval <duration>', 'refresh interval with --watch', '1s'))
    .option('--json', 'print JSON')
    .action(async (flags: ExecFlags) => {
      process.exitCode = await executionsCommand(flags);
    });
}
