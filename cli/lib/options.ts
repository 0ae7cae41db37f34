/**
 * The options and units every `facerec` command shares, so that a flag means the same thing
 * wherever it appears:
 * - durations (`--timeout`, `--within`, `--min-age`, `--interval`) are strings like `90s`, `5m`,
 *   `250ms`, `1h`; a plain number is seconds (the old spelling of `run --timeout` and
 *   `executions --interval`);
 * - the target options (`--aws`, `--endpoint`, `--prefix`, `--region`, and `--state-machine-arn`
 *   on the commands that read Step Functions) pick the pipeline a command talks to (target.ts);
 * - `--profile` takes the profiles of the configuration.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  BUCKET_PREFIX_PATTERN,
  BUCKET_PREFIX_RULE,
  DEFAULT_REGION,
  PROFILES,
} from '../../functions/core/facts.js';
import { parseSampling, samplingText } from '../../functions/core/sampling.js';

/** `"300s"`, `"300"`, `"5m"`, `"1.5m"`, `"2h"`, `"250ms"` -> seconds. A plain number is seconds.
 * `allowZero`: `0` (any unit) is accepted, for options where it means "no wait". */
export function parseDuration(text: string, opts: { allowZero?: boolean } = {}): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?\s*$/i.exec(text);
  if (!m) throw new Error(`"${text}" is not a duration (e.g. 300s, 5m, 250ms; a plain number is seconds)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const seconds =
    unit === 'ms' ? n / 1000 : unit === 'm' || unit === 'min' ? n * 60 : unit === 'h' ? n * 3600 : n;
  if (seconds === 0 && opts.allowZero) return 0;
  if (!(seconds > 0)) throw new Error(`"${text}": the duration must be positive`);
  return seconds;
}

/** `"2"`, `"2/s"`, `"0.5/s"`, `"30/min"` -> uploads per second. */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute))?\s*$/i.exec(text);
  if (!m) throw new Error(`"${text}" is not a rate (e.g. 1, 2/s, 30/min)`);
  const n = Number(m[1]);
  const perMinute = /^m/i.test(m[2] ?? '');
  const rate = perMinute ? n / 60 : n;
  if (!(rate > 0)) throw new Error(`"${text}": the rate must be positive`);
  return rate;
}

/** A whole number >= min (`--limit`, `--details`, `--concurrency`). */
export function parseCount(flag: string, min = 0) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\s*\d+\s*$/.test(text) || n < min)
      throw new InvalidArgumentError(`${flag}: a whole number >= ${min}`);
    return n;
  };
}

/** One of `values`; `upperCase`: typed in any case (`--status failed`). Anything else is refused
 * with the allowed values. */
export function parseChoice(values: readonly string[], opts: { upperCase?: boolean } = {}) {
  return (text: string): string => {
    const value = opts.upperCase ? text.toUpperCase() : text;
    if (!values.includes(value)) throw new InvalidArgumentError(`allowed: ${values.join(', ')}`);
    return value;
  };
}

/** A TCP port, 0 (any free port) to 65535; the command receives it as the text given. */
export function parsePort() {
  return (text: string): string => {
    if (!/^\s*\d+\s*$/.test(text) || Number(text) > 65535)
      throw new InvalidArgumentError('a port number: 0 (any free port) to 65535');
    return String(Number(text));
  };
}

/** A number (`--threshold 0.55`). */
export function parseNumber(opts: { min?: number } = {}) {
  return (text: string): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || (opts.min !== undefined && n < opts.min))
      throw new InvalidArgumentError(`a number${opts.min !== undefined ? ` >= ${opts.min}` : ''}, e.g. 0.55`);
    return n;
  };
}

/** A duration option whose value reaches the command as seconds (a number). */
export function durationOption(
  flags: string,
  description: string,
  defaultText?: string,
  opts: { allowZero?: boolean } = {},
): Option {
  const option = new Option(
    flags,
    `${description} (a duration: 90s, 5m, 250ms; plain number: seconds)`,
  ).argParser((text: string) => {
    try {
      return parseDuration(text, opts);
    } catch (err) {
      // Commander names the option and the value in front of this message.
      throw new InvalidArgumentError((err as Error).message);
    }
  });
  return defaultText === undefined ? option : option.default(parseDuration(defaultText, opts), defaultText);
}

export const profileOption = (
  description = 'frame sampling and output layout (default: FACEREC_PROFILE or default)',
) => new Option('--profile <profile>', description).choices(PROFILES);

/** `--endpoint`: an http(s) URL. */
function parseEndpoint(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol))
    throw new InvalidArgumentError('an http(s) URL, e.g. http://127.0.0.1:9000');
  return text;
}

/** `--prefix`: a bucket prefix by S3's rules. `keyPrefixToo`: `run`, where a value with a slash is
 * the key prefix of old (run.ts keyPrefixOf). */
function parseBucketPrefix(keyPrefixToo: boolean) {
  return (text: string): string => {
    if (BUCKET_PREFIX_PATTERN.test(text) || (keyPrefixToo && text.includes('/'))) return text;
    throw new InvalidArgumentError(BUCKET_PREFIX_RULE);
  };
}

/**
 * `--sample 10` (frames spread over the video) or `--sample 1/s` (a rate: `2/s`, `30/min`,
 * `1/10s`): the default profile's sampling (FACEREC_SAMPLE). The value reaches the command as the
 * setting's short form.
 */
export const sampleOption = (
  description = 'frames taken from each video: a number spread over it (10) or a rate (1/s, 30/min); default profile only (default: FACEREC_SAMPLE or 10)',
) =>
  new Option('--sample <frames or rate>', description).argParser((text: string) => {
    try {
      return samplingText(parseSampling(text));
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  });

/** `--sample` with a cse546 profile: those sample as the course's commands do. */
export function sampleConflict(flags: { sample?: string; profile?: string }): string | undefined {
  return flags.sample && flags.profile && flags.profile !== 'default'
    ? `--sample applies to the default profile; ${flags.profile} samples as the course's command does`
    : undefined;
}

/** The target options (resolved by target.ts), the same on every command that talks to a pipeline.
 * `stateMachine`: the command reads Step Functions, so it also takes `--state-machine-arn`. */
export function withTargetOptions(
  command: Command,
  opts: { stateMachine?: boolean; keyPrefixToo?: boolean } = {},
): Command {
  command
    .addOption(
      new Option('--aws', "a deployed pipeline on AWS (the SDK's credential chain and region)").conflicts(
        'endpoint',
      ),
    )
    .option(
      '--endpoint <url>',
      'any S3-compatible endpoint (Step Functions: AWS_ENDPOINT_URL_SFN) instead of the local stack',
      parseEndpoint,
    )
    .option(
      '--prefix <prefix>',
      'bucket prefix: <prefix>-input, -stage-1, -output (default: FACEREC_BUCKET_PREFIX)',
      parseBucketPrefix(opts.keyPrefixToo ?? false),
    )
    .option('--region <region>', `region (with --aws: default from the SDK chain, else ${DEFAULT_REGION})`);
  if (opts.stateMachine)
    command.option(
      '--state-machine-arn <arn>',
      'with --aws or --endpoint: the pipeline state machine (default: STATE_MACHINE_ARN)',
    );
  return command;
}
