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
import { ConsoleSource, type ConsoleTarget } from '../console/source.js';
import { withTargetOptions } from '../lib/options.js';
import { resolveTarget, type TargetFlags } from '../lib/target.js';

export interface ReportFlags extends TargetFlags {
  out: string;
}

/** The buckets (and Step Functions, when there are some) a report reads from. */
async function reportTarget(
  flags: ReportFlags,
): Promise<{ target?: ConsoleTarget; close: () => Promise<void>; note?: string }> {
  const remote = flags.aws || flags.endpoint;
  let t;
  try {
    t = await resolveTarget(flags, { local: 'read', stateMachine: 'optional' });
  } catch (err) {
    if (remote) throw err;
    return { close: async () => undefined, note: (err as Error).message };
  }
  const opened = consoleTargetOf(t);
  return {
    ...opened,
    note:
      t.kind === 'local' && !t.sfn
        ? 'no local stack runs: the execution history is not available (a stopped stack keeps only its buckets)'
        : undefined,
  };
}

/** `given`: the pipeline to read (else the running local stack, the data of a stopped one, or
 * AWS with --aws); it is closed at the end. */
export async function buildReport(
  input: string,
  flags: ReportFlags,
  given?: { target: ConsoleTarget; close: () => Promise<void> | void },
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

export function registerReport(program: Command): void {
  withTargetOptions(program.command('report'), { stateMachine: true })
    .description(
      'one processed video as a self-contained HTML file (result, timeline, annotated frames, execution)',
    )
    .argument('<result>', 'a <stem>.json result file, or a video (file or key) processed by the pipeline')
    .option('--out <file>', 'HTML file to write', 'report.html')
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
