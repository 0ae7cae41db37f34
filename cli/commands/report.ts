/**
 * `facerec report <result>`: one processed video as a self-contained HTML file (result, timeline,
 * annotated frames, execution), read from the running local stack, the data a stopped one left,
 * or a deployed pipeline (`--aws`, `--endpoint`).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { outputKeys, videoStem } from '../../functions/core/layout.js';
import { consoleTargetOf } from '../console/console-target.js';
import { jpegDataUri, reportHtml, type ReportData } from '../console/report.js';
import { resultView } from '../console/result-view.js';
import { ConsoleSource, type ConsoleTarget, type ExecutionDetail } from '../console/source.js';
import { withTargetOptions } from '../lib/options.js';
import { resolveTarget, type TargetFlags } from '../lib/target.js';

export interface ReportFlags extends TargetFlags {
  out: string;
}

type Opened = { target?: ConsoleTarget; close: () => Promise<void> | void; note?: string };

/** The buckets and Step Functions a report reads from: a running local stack, a deployed
 * pipeline, or a stopped local stack: its buckets, and the executions it saved (its journal, the
 * history `facerec executions` reads too). */
async function reportTarget(flags: ReportFlags): Promise<Opened> {
  const remote = flags.aws || flags.endpoint;
  let t;
  try {
    t = await resolveTarget(flags, { local: 'read', stateMachine: 'optional' });
  } catch (err) {
    if (remote) throw err;
    return { close: async () => undefined, note: (err as Error).message };
  }
  const opened = consoleTargetOf(t);
  if (t.kind !== 'local' || t.sfn) return opened;
  let saved;
  try {
    saved = await resolveTarget(flags, { local: 'read', stateMachine: 'required' });
  } catch (err) {
    return {
      ...opened,
      note: `no local stack runs, and its executions cannot be read: ${(err as Error).message}`,
    };
  }
  return {
    target: { ...opened.target, sfn: saved.sfn, stateMachineArn: saved.stateMachineArn },
    close: async () => {
      await saved.close();
      await opened.close();
    },
    note: `no local stack runs: the result from its buckets, the execution from ${saved.description}`,
  };
}

/** The execution of a result or failure record, when it can be read. */
async function executionOf(source: ConsoleSource, arn: unknown, notes: string[]) {
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) return undefined;
  if (!source.target.sfn || !source.target.stateMachineArn) {
    notes.push('no Step Functions to read the execution from: no graph or history');
    return undefined;
  }
  try {
    return await source.execution(arn);
  } catch (err) {
    notes.push(`the execution could not be read (${(err as Error).name}): no graph or history`);
    return undefined;
  }
}

/** `given`: the pipeline to read (else the running local stack, the data of a stopped one, or
 * AWS with --aws); it is closed at the end. A video that failed gets a report of its failure
 * record and execution. */
export async function buildReport(
  input: string,
  flags: ReportFlags,
  given?: { target: ConsoleTarget; close: () => Promise<void> | void },
): Promise<{ html: string; data: ReportData }> {
  const notes: string[] = [];
  const opened: Opened = given ?? (await reportTarget(flags));
  try {
    const source = opened.target ? new ConsoleSource(opened.target) : undefined;
    if (opened.note) notes.push(opened.note);
    const generated = `facerec report, ${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC`;
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
        const recordText = await source.text(where.bucket, where.key);
        if (recordText === undefined)
          throw new Error(
            `no result for ${key}: ${source.target.buckets.output}/${keys.detail} is missing, and no failure record ${where.bucket}/${where.key} (is it processed, with a profile that writes the detail JSON?)`,
          );
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(recordText) as Record<string, unknown>;
        } catch {
          throw new Error(`${where.bucket}/${where.key} is not JSON`);
        }
        const found = await executionOf(source, record.execution, notes);
        const execution = found ?? failedStandIn(key, record, where);
        execution.errorRecord = record;
        execution.errorRecordKey = where.key;
        const data: ReportData = {
          execution,
          ...(found ? { graph: source.graph() } : {}),
          images: {},
          notes,
          generated,
        };
        return { html: reportHtml(data), data };
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
      const found = await executionOf(source, result.execution, notes);
      if (found) execution = { ...found, result };
    } else notes.push('no buckets to read the frames from');
    const data: ReportData = {
      result,
      ...(execution ? { execution, graph: source!.graph() } : {}),
      images,
      notes,
      generated,
    };
    return { html: reportHtml(data), data };
  } finally {
    await opened.close();
  }
}

/** What the page shows of a failed video whose execution cannot be read: its record only. */
function failedStandIn(
  key: string,
  record: Record<string, unknown>,
  where: { bucket: string; key: string },
): ExecutionDetail {
  const arn = typeof record.execution === 'string' ? record.execution : '';
  const at = typeof record.time === 'string' ? Date.parse(record.time) : NaN;
  return {
    executionArn: arn,
    name: arn.split(':').at(-1) || key,
    status: 'FAILED',
    video: key,
    ...(Number.isFinite(at) ? { stopDate: at } : {}),
    error: typeof record.error === 'string' ? record.error : undefined,
    reason: typeof record.reason === 'string' ? record.reason : undefined,
    states: {},
    iterations: [],
    events: [],
    eventsTotal: 0,
    transitions: 0,
    resultNote: `the failure record is ${where.bucket}/${where.key}`,
  };
}

export function registerReport(program: Command): void {
  withTargetOptions(program.command('report'), { stateMachine: true })
    .description(
      'one processed video as a self-contained HTML file (result, timeline, annotated frames, execution; a failed one: its failure record and execution)',
    )
    .argument('<result>', 'a <stem>.json result file, or a video (file or key) processed by the pipeline')
    .option('--out <file>', 'HTML file to write', 'report.html')
    .action(async (input: string, flags: ReportFlags) => {
      const { html, data } = await buildReport(input, flags);
      await writeFile(flags.out, html);
      const kb = (Buffer.byteLength(html) / 1024).toFixed(0);
      const what = data.result
        ? `${data.result.video.key} -> ${data.result.people.map((p) => p.name).join(', ') || data.result.name}, ${Object.keys(data.images).length} annotated frame(s)`
        : `${data.execution?.video} FAILED: ${data.execution?.error ?? ''}${data.execution?.events.length ? ', with its graph and history' : ''}`;
      console.log(`${flags.out}: ${what}, ${kb} KiB`);
      for (const n of data.notes) console.log(`  note: ${n}`);
    });
}
