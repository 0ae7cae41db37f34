/**
 * `facerec grade --expected <csv> [--profile p] [--within 300s] [--since time] [--json]`: the
 * original project's grader. Lists the three buckets, reads the outputs, and reports test cases
 * (buckets exist, stage-1 layout of the profile, one `<stem>.txt` per expected video, its whole
 * content the expected name, no unexpected objects, all outputs within the time limit), each PASS
 * or FAIL with its reason, and a score table. Exit code 1 on any FAIL.
 *
 * The judgement is cli/lib/grade.ts; this module does the S3 reads. Targets as for
 * `facerec workload`: the local stack by default (running, or the data a stopped one left),
 * `--aws`, `--endpoint <url>`.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { printable } from '../../functions/core/printable.js';
import { describeError, EXIT, UsageError } from '../lib/errors.js';
import type { Profile } from '../../functions/core/facts.js';
import { AWS_REQUESTS_AT_ONCE, mapLimit } from '../../functions/core/concurrency.js';
import { grade, keysToRead, parseExpectedCsv, type ExpectedVideo, type GradeReport } from '../lib/grade.js';
import { ERRORS_PREFIX, failureRecordBucket } from '../../functions/core/layout.js';
import { durationOption, parseCount, profileOption, withTargetOptions } from '../lib/options.js';
import { bucketListing, readText } from '../lib/s3-objects.js';
import { configWith, resolveTarget, type Target, type TargetFlags } from '../lib/target.js';

interface GradeFlags extends TargetFlags {
  expected: string;
  profile?: Profile;
  /** Seconds. */
  within: number;
  since?: string;
  json?: boolean;
  details: number;
}

/** ISO time, or epoch seconds / milliseconds. */
function parseSince(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text.trim())) {
    const n = Number(text);
    return n < 1e12 ? n * 1000 : n;
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`--since ${text}: not a time (ISO 8601, or epoch seconds)`);
  return t;
}

/** The checks, then a score table in the style of the original grader. */
function printGrade(r: GradeReport, details: number, out: NodeJS.WritableStream = process.stdout) {
  for (const c of r.checks) {
    out.write(`Test status of ${c.id} : ${c.status}  ${c.title}\n    ${printable(c.reason)}\n`);
    if (c.status === 'FAIL' && details > 0) {
      for (const d of c.details.slice(0, details)) out.write(`      - ${printable(d)}\n`);
      if (c.details.length > details)
        out.write(`      … ${c.details.length - details} more (--details N, --json)\n`);
    }
  }
  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
  const rows = r.checks.map((c) => [c.id, c.title, c.status, fmt(c.score), fmt(c.points)]);
  rows.push(['Total', '', r.passed ? 'PASS' : 'FAIL', fmt(r.score), fmt(r.total)]);
  const header = ['Test case', 'Check', 'Status', 'Score', 'Points'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const right = [false, false, false, true, true];
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  out.write(`\n${rule}\n${line(header)}\n${rule}\n`);
  for (const row of rows.slice(0, -1)) out.write(`${line(row)}\n`);
  out.write(`${rule}\n${line(rows.at(-1)!)}\n${rule}\n`);
  out.write(`Total score: ${fmt(r.score)}/${fmt(r.total)}\n`);
}

/** What the grader judges, read from the target: the three listings (a stopped local stack's
 * bucket without a folder counts as missing), the failure records when they are not in the output
 * bucket, and the texts of the outputs and records to check. */
async function readBuckets(target: Target, profile: Profile, expected: readonly ExpectedVideo[]) {
  const b = target.buckets;
  const [input, stage1, output] = await Promise.all(
    [b.input, b.stage1, b.output].map((n) => bucketListing(target.s3, n)),
  );
  for (const l of [input, stage1, output]) {
    if (target.missing?.includes(l.name)) {
      Object.assign(l, { exists: false, error: 'no folder in the local data', objects: [] });
    }
  }
  // Failure records: errors/ of the output bucket, or of the meta bucket (cse546 profiles).
  const recordsBucket = failureRecordBucket(profile, b);
  const records =
    recordsBucket === b.output
      ? output
      : await bucketListing(target.s3, recordsBucket).then((l) => ({
          ...l,
          objects: l.objects.filter((o) => o.key.startsWith(ERRORS_PREFIX)),
        }));
  const errorKeys = records.objects
    .filter((o) => o.key.startsWith(ERRORS_PREFIX))
    .slice(0, 50)
    .map((o) => o.key);
  const recordKeys = new Set(records.objects.map((o) => o.key));
  const toRead = [...new Set([...keysToRead(expected, output, records), ...errorKeys])];
  const texts = new Map<string, string>();
  await mapLimit(toRead, AWS_REQUESTS_AT_ONCE, async (key) => {
    try {
      // Output keys (<stem>.txt) and record keys (errors/<stem>.json) never coincide.
      const bucket = recordKeys.has(key) && !key.endsWith('.txt') ? recordsBucket : b.output;
      texts.set(key, await readText(target.s3, bucket, key));
    } catch {
      /* reported as not read */
    }
  });
  return { input, stage1, output, records: records === output ? undefined : records, texts };
}

async function gradeCommand(flags: GradeFlags): Promise<number> {
  const expected = parseExpectedCsv(
    await readFile(flags.expected, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--expected: ${describeError(err)}`);
    }),
  );
  const withinSeconds = flags.within;
  const since = flags.since === undefined ? undefined : parseSince(flags.since);
  const target = await resolveTarget(flags, { local: 'read' });
  try {
    // The profile: as given, else the running local stack's, else FACEREC_PROFILE.
    const profile: Profile =
      flags.profile ?? (target.local?.profile as Profile | undefined) ?? configWith({}).pipeline.profile;
    const profileFrom = flags.profile
      ? '--profile'
      : target.local
        ? 'the running stack'
        : 'FACEREC_PROFILE or default; pass --profile to choose';
    const config = configWith({ profile, prefix: flags.prefix });
    const b = target.buckets;
    const { input, stage1, output, records, texts } = await readBuckets(target, profile, expected);
    const report = grade({
      buckets: { input, stage1, output },
      ...(records ? { records } : {}),
      texts,
      expected,
      profile,
      writeDetail: config.pipeline.writeDetail,
      maxFrames: config.pipeline.frames.max,
      withinSeconds,
      since,
    });
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ target: { kind: target.kind, description: target.description, buckets: b }, profile, profileFrom, ...report }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(
        `facerec grade: ${expected.length} expected videos; profile ${profile} (${profileFrom}); ` +
          `limit ${withinSeconds} s\n${target.description}: s3://${b.input}, s3://${b.stage1}, s3://${b.output}\n\n`,
      );
      printGrade(report, flags.details);
    }
    return report.passed ? EXIT.done : EXIT.failed;
  } finally {
    await target.close();
  }
}

export function registerGrade(program: Command): void {
  withTargetOptions(program.command('grade'))
    .description('check the buckets against expected names, like the original grader (exit 1 on any FAIL)')
    .requiredOption('--expected <csv>', 'lines "video,expected_name" (a header line is allowed)')
    .addOption(
      profileOption("stage-1 layout to check (default: the running local stack's, else FACEREC_PROFILE)"),
    )
    .addOption(
      durationOption('--within <duration>', 'time limit from the first upload to the last output', '300s'),
    )
    .option(
      '--since <time>',
      'start the time limit here (ISO time or epoch seconds) instead of the first input object',
      (text: string) => {
        try {
          parseSince(text);
        } catch (err) {
          throw new InvalidArgumentError((err as Error).message);
        }
        return text;
      },
    )
    .option('--json', 'print the report as JSON')
    .option('--details <n>', 'offending items listed per failed check', parseCount('--details'), 10)
    .action(async (flags: GradeFlags) => {
      process.exitCode = await gradeCommand(flags);
    });
}
