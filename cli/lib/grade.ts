/**
 * The grader's judgement, without AWS: listings of the three buckets (keys, sizes,
 * LastModified), the contents of the outputs that were read, the expected names, the profile and
 * the time limit -> test cases with PASS/FAIL, a reason and points, in the style of the original
 * CSE546 grader (Test_1 … with a score out of 100). Key names come from layout.ts only.
 *
 * Time limit: from the first upload to the last output, both read from S3's LastModified (the
 * server's clock, whole seconds on AWS and on the local S3 server alike), or from `since` (the
 * caller's clock) when given.
 */
import { isCourseProfile, type Profile } from '../../functions/core/facts.js';
import {
  ERRORS_PREFIX,
  frameFileName,
  frameKey,
  outputKeys,
  videoStem,
} from '../../functions/core/layout.js';

export interface ListedObject {
  key: string;
  size: number;
  /** LastModified, epoch milliseconds. */
  lastModified: number;
}

export interface BucketListing {
  name: string;
  exists: boolean;
  /** Why the bucket could not be listed (it then counts as missing). */
  error?: string;
  objects: ListedObject[];
}

export interface ExpectedVideo {
  /** As written in the expected file: `test_00.mp4` (or a bare stem, `test_00`). */
  video: string;
  stem: string;
  name: string;
  /** 1-based line of the expected file. */
  line: number;
}

export interface GradeInput {
  buckets: { input: BucketListing; stage1: BucketListing; output: BucketListing };
  /** The `errors/` listing of the bucket holding failure records when it is not the output
   * bucket (layout.failureRecordBucket: the meta bucket in the cse546 profiles). Not graded. */
  records?: BucketListing;
  /** Contents of the output objects (and failure records) that were read (see `keysToRead`), by
   * key. Output keys and failure-record keys never coincide. */
  texts: ReadonlyMap<string, string>;
  expected: readonly ExpectedVideo[];
  profile: Profile;
  /** The profile writes `<stem>.json` next to `<stem>.txt` (config.pipeline.writeDetail). */
  writeDetail: boolean;
  /** Frames per video at most (config.pipeline.frames.max): the numbered frame keys allowed. */
  maxFrames: number;
  withinSeconds: number;
  /** Start of the time limit (epoch ms, the caller's clock); default: the first input object. */
  since?: number;
}

type Status = 'PASS' | 'FAIL';

interface Check {
  id: string;
  title: string;
  points: number;
  score: number;
  status: Status;
  reason: string;
  /** The offending items, one per line (all of them; printers cut the list). */
  details: string[];
}

interface VideoVerdict {
  video: string;
  stem: string;
  expected: string;
  outputKey: string;
  /** Content of `<stem>.txt`, when present. */
  got?: string;
  correct: boolean;
  /** Output LastModified - start of the time limit, seconds. */
  seconds?: number;
  /** Failure recorded by the pipeline (`errors/<stem>.json`), when present. */
  error?: string;
}

export interface GradeReport {
  checks: Check[];
  score: number;
  total: number;
  passed: boolean;
  videos: VideoVerdict[];
  timing: {
    from: 'since' | 'first input object' | 'none';
    start?: number;
    lastOutput?: number;
    seconds?: number;
    withinSeconds: number;
  };
}

/** Points of each test case (100 in all). */
const POINTS = {
  bucket: 5,
  stage1: 15,
  outputs: 20,
  correct: 30,
  unexpected: 10,
  time: 10,
} as const;

const DETAIL_LIMIT_TEXT = 64 * 1024;

/** `video,expected_name` lines (a header line, blank lines and `#` comments are skipped; RFC 4180
 * quoting). Throws on malformed lines and on two videos that would write the same output. */
export function parseExpectedCsv(text: string): ExpectedVideo[] {
  const rows = parseCsvRows(text.replace(/^\uFEFF/, ''));
  const out: ExpectedVideo[] = [];
  const byStem = new Map<string, ExpectedVideo>();
  for (const [i, { cells, line }] of rows.entries()) {
    if (cells.every((c) => c.trim() === '')) continue;
    if (cells[0].trim().startsWith('#')) continue;
    if (i === 0 && /video|file|key/i.test(cells[0]) && /name|expected|label|person/i.test(cells[1] ?? ''))
      continue;
    if (cells.length < 2) throw new Error(`line ${line}: expected "video,expected_name", got "${cells[0]}"`);
    const video = cells[0].trim();
    const name = cells[1].trim();
    if (!video) throw new Error(`line ${line}: no video name`);
    if (!name) throw new Error(`line ${line}: no expected name for ${video}`);
    const stem = videoStem(video);
    const other = byStem.get(stem);
    if (other) {
      throw new Error(
        `line ${line}: ${video} and ${other.video} (line ${other.line}) would both write ${outputKeys(stem).text}`,
      );
    }
    const e = { video, stem, name, line };
    byStem.set(stem, e);
    out.push(e);
  }
  if (out.length === 0) throw new Error('no videos in the expected file');
  return out;
}

function parseCsvRows(text: string): Array<{ cells: string[]; line: number }> {
  const rows: Array<{ cells: string[]; line: number }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      rows.push({ cells, line: rowLine });
      cells = [];
      cell = '';
      line++;
      rowLine = line;
    } else cell += c;
  }
  if (quoted) throw new Error(`line ${rowLine}: unterminated quote`);
  if (cell !== '' || cells.length > 0) {
    cells.push(cell);
    rows.push({ cells, line: rowLine });
  }
  return rows;
}

/** The output keys whose contents `grade` wants: each expected `<stem>.txt` and error record
 * present in the output listing. */
export function keysToRead(
  expected: readonly ExpectedVideo[],
  output: BucketListing,
  records: BucketListing = output,
): string[] {
  const present = new Map(output.objects.map((o) => [o.key, o]));
  const recorded = new Set(records.objects.map((o) => o.key));
  const keys: string[] = [];
  for (const e of expected) {
    const k = outputKeys(e.stem);
    const text = present.get(k.text);
    if (text && text.size <= DETAIL_LIMIT_TEXT) keys.push(k.text);
    if (recorded.has(k.error)) keys.push(k.error);
  }
  return keys;
}

/** An example key of the profile's stage-1 layout (for messages). */
function frameKeyExample(profile: Profile, stem = 'test_00'): string {
  return frameKey(profile, stem, frameFileName(profile, stem, 0));
}

/** Every stage-1 key the profile may write for these stems -> its stem. */
export function allowedFrameKeys(profile: Profile, stems: Iterable<string>, maxFrames: number) {
  const allowed = new Map<string, string>();
  for (const stem of stems) {
    for (let i = 0; i < Math.max(1, maxFrames); i++) {
      const key = frameKey(profile, stem, frameFileName(profile, stem, i));
      if (allowed.has(key)) break; // profiles with one frame per video: the same key again
      allowed.set(key, stem);
    }
  }
  return allowed;
}

const quote = (s: string) => JSON.stringify(s);
const list = (xs: readonly string[], n = 3) =>
  xs.slice(0, n).join(', ') + (xs.length > n ? ` and ${xs.length - n} more` : '');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const fmtTime = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** What an error record says (its `reason`, else its `error`), or the raw text. */
export function errorRecordReason(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as { reason?: unknown; error?: unknown; stage?: unknown };
    const what = [r.error, r.reason].filter((x): x is string => typeof x === 'string' && x !== '');
    if (what.length)
      return `${typeof r.stage === 'string' ? `${r.stage}: ` : ''}${[...new Set(what)].join(': ')}`;
  } catch {
    /* not JSON */
  }
  return text.slice(0, 200);
}

/** A test case's outcome; `partial` (0..1) of the points when it fails. */
function makeCheck(
  id: string,
  title: string,
  points: number,
  ok: boolean,
  reason: string,
  details: string[] = [],
  partial = 0,
): Check {
  const score = ok ? points : Math.round(points * Math.max(0, Math.min(1, partial)) * 10) / 10;
  return { id, title, points, score, status: ok ? 'PASS' : 'FAIL', reason, details };
}

/** The name an output gives: its whole content in the cse546 profiles (what their graders read);
 * in the default profile, whose output lists everyone recognized one name a line, the first line
 * (the person with the most screen time). */
export function answerOf(profile: Profile, text: string | undefined): string | undefined {
  return text === undefined || isCourseProfile(profile) ? text : text.split('\n')[0];
}

/** What the checks share: the listings indexed, and one verdict per expected video. */
interface GradeContext {
  input: GradeInput;
  expectedStems: Set<string>;
  /** Input objects by video stem (several uploads may share a stem). */
  inputByStem: Map<string, ListedObject[]>;
  outputs: Map<string, ListedObject>;
  /** Keys of the failure records. */
  records: Set<string>;
  /** Every stage-1 key the profile may write for the expected and uploaded videos -> its stem. */
  allowedFrames: Map<string, string>;
  verdicts: VideoVerdict[];
}

function gradeContext(input: GradeInput): GradeContext {
  const { buckets, expected, profile } = input;
  const expectedStems = new Set(expected.map((e) => e.stem));
  const inputByStem = new Map<string, ListedObject[]>();
  for (const o of buckets.input.objects) {
    if (o.key.endsWith('/')) continue;
    const stem = videoStem(o.key);
    inputByStem.set(stem, [...(inputByStem.get(stem) ?? []), o]);
  }
  const outputs = new Map(buckets.output.objects.map((o) => [o.key, o]));
  const records = new Set((input.records ?? buckets.output).objects.map((o) => o.key));
  const allowedFrames = allowedFrameKeys(
    profile,
    new Set([...expectedStems, ...inputByStem.keys()]),
    input.maxFrames,
  );
  const verdicts: VideoVerdict[] = expected.map((e) => {
    const k = outputKeys(e.stem);
    const got = outputs.has(k.text) ? input.texts.get(k.text) : undefined;
    return {
      video: e.video,
      stem: e.stem,
      expected: e.name,
      outputKey: k.text,
      got,
      correct: answerOf(profile, got) === e.name,
      error: records.has(k.error) ? (errorRecordReason(input.texts.get(k.error)) ?? 'recorded') : undefined,
    };
  });
  return { input, expectedStems, inputByStem, outputs, records, allowedFrames, verdicts };
}

/** Test_1: the three buckets exist. */
function checkBuckets({ input: { buckets } }: GradeContext): Check[] {
  const named: Array<[string, BucketListing]> = [
    ['input', buckets.input],
    ['stage-1', buckets.stage1],
    ['output', buckets.output],
  ];
  return named.map(([label, b], i) =>
    makeCheck(
      `Test_1_${'abc'[i]}`,
      `${label} bucket ${b.name} exists`,
      POINTS.bucket,
      b.exists,
      b.exists
        ? `${plural(b.objects.length, 'object')}`
        : `bucket ${b.name} is missing${b.error ? ` (${b.error})` : ''}`,
    ),
  );
}

/** Stage-1 keys outside the profile's layout for the uploaded and expected videos. */
function offLayoutFrames(ctx: GradeContext): string[] {
  return ctx.input.buckets.stage1.objects.filter((o) => !ctx.allowedFrames.has(o.key)).map((o) => o.key);
}

/** Test_2: stage-1 keys follow the profile, frames for every expected video. */
function checkStage1(ctx: GradeContext): Check {
  const { buckets, expected, profile } = ctx.input;
  const example = frameKeyExample(profile);
  const framesByStem = new Map<string, number>();
  for (const o of buckets.stage1.objects) {
    const stem = ctx.allowedFrames.get(o.key);
    if (stem !== undefined) framesByStem.set(stem, (framesByStem.get(stem) ?? 0) + 1);
  }
  const offLayout = offLayoutFrames(ctx);
  const noFrames = expected.filter((e) => !framesByStem.has(e.stem));
  const details = [
    ...offLayout.map((k) => `${k}: not a ${profile} frame key of any uploaded or expected video`),
    ...noFrames.map((e) => `${e.video}: no frame (expected ${frameKeyExample(profile, e.stem)})`),
  ];
  const ok = buckets.stage1.exists && details.length === 0;
  const layout = `${profile} layout, e.g. ${example}`;
  const reason = !buckets.stage1.exists
    ? `bucket ${buckets.stage1.name} is missing`
    : ok
      ? `${plural(buckets.stage1.objects.length, 'key')} in the ${layout}; every expected video has its frame${profile === 'cse546-p2' ? '' : 's'}`
      : [
          offLayout.length
            ? `${plural(offLayout.length, 'key')} outside the ${profile} layout (keys like ${example}): ${list(offLayout)}`
            : '',
          noFrames.length
            ? `${plural(noFrames.length, 'expected video')} without frames (${list(noFrames.map((e) => e.video))})`
            : '',
        ]
          .filter(Boolean)
          .join('; ');
  return makeCheck(
    'Test_2',
    `stage-1 keys follow the ${profile} profile`,
    POINTS.stage1,
    ok,
    reason,
    details,
  );
}

/** Test_3: exactly one output <stem>.txt per expected video. */
function checkOutputs(ctx: GradeContext): Check {
  const { buckets } = ctx.input;
  const { verdicts, outputs } = ctx;
  const details: string[] = [];
  let ok = 0;
  for (const v of verdicts) {
    const uploads = ctx.inputByStem.get(v.stem) ?? [];
    if (!outputs.has(v.outputKey)) {
      const why = v.error
        ? `the pipeline recorded a failure (${outputKeys(v.stem).error}: ${v.error})`
        : uploads.length === 0
          ? `${v.video} is not in the input bucket`
          : 'no output and no error record';
      details.push(`${v.outputKey}: missing; ${why}`);
    } else if (uploads.length > 1) {
      details.push(
        `${v.outputKey}: ${uploads.length} uploads share this output (${uploads.map((u) => u.key).join(', ')})`,
      );
    } else ok++;
  }
  const n = verdicts.length;
  return makeCheck(
    'Test_3',
    'one output <stem>.txt per expected video',
    POINTS.outputs,
    buckets.output.exists && ok === n,
    !buckets.output.exists
      ? `bucket ${buckets.output.name} is missing`
      : ok === n
        ? `${n}/${n} outputs present, one per video`
        : `${ok}/${n} present once; ${list(details.map((d) => d.split(':')[0]))}`,
    details,
    ok / n,
  );
}

/** Test_4: the whole content of each output is the expected name (default profile: its first
 * line, answerOf). */
function checkNames(ctx: GradeContext): Check {
  const { verdicts, outputs } = ctx;
  const details: string[] = [];
  for (const v of verdicts) {
    if (v.correct) continue;
    if (v.got === undefined) {
      const present = outputs.get(v.outputKey);
      details.push(
        present
          ? `${v.outputKey}: not read (${present.size} bytes)`
          : `${v.outputKey}: missing (expected ${quote(v.expected)})`,
      );
    } else if (v.got.trim() === v.expected) {
      details.push(
        `${v.outputKey}: ${quote(v.got)} has whitespace around the name (the whole content must be ${quote(v.expected)})`,
      );
    } else details.push(`${v.outputKey}: ${quote(v.got)}, expected ${quote(v.expected)}`);
  }
  const n = verdicts.length;
  const right = verdicts.filter((v) => v.correct).length;
  return makeCheck(
    'Test_4',
    isCourseProfile(ctx.input.profile)
      ? 'each output holds the expected name (whole content)'
      : 'each output names the expected person first (most screen time)',
    POINTS.correct,
    right === n,
    right === n ? `${right}/${n} correct` : `${right}/${n} correct; ${details[0]}`,
    details,
    right / n,
  );
}

/** Test_5: no unexpected objects in the three buckets. */
function checkUnexpected(ctx: GradeContext): Check {
  const { input, expectedStems } = ctx;
  const { buckets } = input;
  const allowedOutputs = new Set<string>();
  for (const stem of expectedStems) {
    const k = outputKeys(stem);
    allowedOutputs.add(k.text);
    if (input.writeDetail) allowedOutputs.add(k.detail);
  }
  const details: string[] = [];
  for (const o of buckets.output.objects) {
    if (allowedOutputs.has(o.key)) continue;
    if (o.key.startsWith(ERRORS_PREFIX)) {
      details.push(
        `output ${o.key}: error record (${errorRecordReason(input.texts.get(o.key)) ?? 'a video failed'})`,
      );
    } else details.push(`output ${o.key}: not an output of an expected video`);
  }
  for (const o of buckets.stage1.objects) {
    const stem = ctx.allowedFrames.get(o.key);
    if (stem !== undefined && !expectedStems.has(stem))
      details.push(`stage-1 ${o.key}: frame of a video that is not expected`);
  }
  for (const o of buckets.input.objects) {
    if (!expectedStems.has(videoStem(o.key))) details.push(`input ${o.key}: not an expected video`);
  }
  const allowedDesc = `<stem>.txt${input.writeDetail ? ' and <stem>.json' : ''} of expected videos only`;
  return makeCheck(
    'Test_5',
    'no unexpected objects',
    POINTS.unexpected,
    details.length === 0,
    details.length === 0
      ? `output: ${allowedDesc}; stage-1: frames of expected videos only; input: expected videos only`
      : `${plural(details.length, 'unexpected object')}: ${list(details.map((d) => d.split(': ')[0]))}` +
          (offLayoutFrames(ctx).length ? ` (stage-1 keys outside the layout: see Test_2)` : ''),
    details,
  );
}

/** Where the time limit starts: `since`, else the first upload of an expected video (else of any). */
function timingStart(ctx: GradeContext): GradeReport['timing'] {
  const { input } = ctx;
  const timing: GradeReport['timing'] = { from: 'none', withinSeconds: input.withinSeconds };
  const expectedInputs = [...ctx.expectedStems].flatMap((s) => ctx.inputByStem.get(s) ?? []);
  const starts = (expectedInputs.length ? expectedInputs : input.buckets.input.objects).map(
    (o) => o.lastModified,
  );
  if (input.since !== undefined) {
    timing.from = 'since';
    timing.start = input.since;
  } else if (starts.length) {
    timing.from = 'first input object';
    timing.start = Math.min(...starts);
  }
  return timing;
}

/** Test_6: every output within the time limit. Sets each present verdict's `seconds`. */
function checkTiming(ctx: GradeContext): { check: Check; timing: GradeReport['timing'] } {
  const { input, verdicts, outputs } = ctx;
  const timing = timingStart(ctx);
  const present = verdicts.filter((v) => outputs.has(v.outputKey));
  const missing = verdicts.length - present.length;
  const details: string[] = [];
  let reason: string;
  let ok = false;
  if (timing.start === undefined) {
    reason = 'no input objects to time from (pass --since)';
  } else {
    const start = timing.start;
    // LastModified is whole seconds: an output written in the same second as `since` can read
    // up to a second earlier.
    const tolerance = timing.from === 'since' ? 1000 : 0;
    for (const v of present) {
      const t = outputs.get(v.outputKey)!.lastModified;
      v.seconds = (t - start) / 1000;
      if (t < start - tolerance)
        details.push(
          `${v.outputKey}: written ${fmtTime(t)}, before the start (${fmtTime(start)}): left over from an earlier run?`,
        );
      else if (v.seconds > input.withinSeconds)
        details.push(`${v.outputKey}: ${v.seconds.toFixed(0)} s after the start`);
    }
    if (present.length) {
      timing.lastOutput = Math.max(...present.map((v) => outputs.get(v.outputKey)!.lastModified));
      timing.seconds = (timing.lastOutput - start) / 1000;
    }
    for (const v of verdicts) if (!outputs.has(v.outputKey)) details.push(`${v.outputKey}: never arrived`);
    ok = details.length === 0 && present.length > 0;
    const span =
      timing.seconds === undefined
        ? 'no output arrived'
        : `${timing.from === 'since' ? 'since' : 'first upload'} ${fmtTime(start)} -> last output ${fmtTime(timing.lastOutput!)}: ${timing.seconds.toFixed(0)} s`;
    reason = `${span} (limit ${input.withinSeconds} s; S3 LastModified, whole seconds)`;
    if (missing) reason += `; ${plural(missing, 'output')} missing`;
    const stale = details.filter((d) => d.includes('before the start')).length;
    if (stale) reason += `; ${plural(stale, 'output')} older than the start`;
    const late = details.filter((d) => d.endsWith('after the start')).length;
    if (late) reason += `; ${plural(late, 'output')} late`;
  }
  const check = makeCheck(
    'Test_6',
    `all outputs within ${input.withinSeconds} s`,
    POINTS.time,
    ok,
    reason,
    details,
  );
  return { check, timing };
}

/** The six test cases of the original grader, in its order, with the score. */
export function grade(input: GradeInput): GradeReport {
  const ctx = gradeContext(input);
  const timed = checkTiming(ctx);
  const checks = [
    ...checkBuckets(ctx),
    checkStage1(ctx),
    checkOutputs(ctx),
    checkNames(ctx),
    checkUnexpected(ctx),
    timed.check,
  ];
  const score = Math.round(checks.reduce((a, c) => a + c.score, 0) * 10) / 10;
  const total = checks.reduce((a, c) => a + c.points, 0);
  return {
    checks,
    score,
    total,
    passed: checks.every((c) => c.status === 'PASS'),
    videos: ctx.verdicts,
    timing: timed.timing,
  };
}
