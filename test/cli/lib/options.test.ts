/** The options every `facerec` command shares (cli/lib/options.ts): units, target options, old spellings. */
import { Command } from 'commander';
import { keyPrefixOf } from '#cli/commands/run.js';
import { durationOption, parseCount, parseDuration, withTargetOptions } from '#cli/lib/options.js';

/** Parse argv with a command that records its flags instead of acting. */
function parse(build: (c: Command) => Command, argv: string[]): Record<string, unknown> {
  let flags: Record<string, unknown> = {};
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
  build(program.command('x'))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .action((f: Record<string, unknown>) => {
      flags = f;
    });
  program.parse(['node', 'facerec', 'x', ...argv]);
  return flags;
}

describe('durations', () => {
  test('units, and a plain number is seconds (the old spelling)', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('90 sec')).toBe(90);
    expect(parseDuration('5m')).toBe(300);
    expect(parseDuration('1.5min')).toBe(90);
    expect(parseDuration('250ms')).toBe(0.25);
    expect(parseDuration('2h')).toBe(7200);
    expect(() => parseDuration('5 minutes')).toThrow(/not a duration/);
    expect(() => parseDuration('-5s')).toThrow(/not a duration/);
    expect(() => parseDuration('0')).toThrow(/positive/);
    expect(parseDuration('0s', { allowZero: true })).toBe(0);
  });

  test('a duration option hands the command seconds, its default too', () => {
    const timeout = (c: Command) => c.addOption(durationOption('--timeout <duration>', 'give up', '600s'));
    expect(parse(timeout, []).timeout).toBe(600);
    expect(parse(timeout, ['--timeout', '90'])).toEqual({ timeout: 90 });
    expect(parse(timeout, ['--timeout', '5m'])).toEqual({ timeout: 300 });
    expect(() => parse(timeout, ['--timeout', 'soon'])).toThrow(/argument 'soon' is invalid.*not a duration/);
    const minAge = (c: Command) =>
      c.addOption(durationOption('--min-age <duration>', 'age', '60s', { allowZero: true }));
    expect(parse(minAge, ['--min-age', '0'])).toEqual({ minAge: 0 });
  });

  test('counts are whole numbers', () => {
    expect(parseCount('--limit', 1)('20')).toBe(20);
    expect(() => parseCount('--limit', 1)('0')).toThrow(/whole number >= 1/);
    expect(() => parseCount('--limit')('2.5')).toThrow(/whole number/);
  });
});

describe('target options', () => {
  test('the same four everywhere; --state-machine-arn where Step Functions are read', () => {
    const names = (c: Command) => c.options.map((o) => o.long);
    expect(names(withTargetOptions(new Command('a')))).toEqual([
      '--aws',
      '--endpoint',
      '--prefix',
      '--region',
    ]);
    expect(names(withTargetOptions(new Command('b'), { stateMachine: true }))).toEqual([
      '--aws',
      '--endpoint',
      '--prefix',
      '--region',
      '--state-machine-arn',
    ]);
    const flags = parse(
      (c) => withTargetOptions(c, { stateMachine: true }),
      ['--endpoint', 'http://127.0.0.1:4568', '--prefix', 'team7', '--state-machine-arn', 'arn:x'],
    );
    expect(flags).toEqual({ endpoint: 'http://127.0.0.1:4568', prefix: 'team7', stateMachineArn: 'arn:x' });
    expect(() => parse((c) => withTargetOptions(c), ['--aws', '--endpoint', 'http://x'])).toThrow(
      /cannot be used with/,
    );
  });

  test('run: --key-prefix; the old `run --prefix batch1/` still means the key prefix', () => {
    expect(keyPrefixOf({ keyPrefix: 'batch1/' })).toEqual({ keyPrefix: 'batch1/', bucketPrefix: undefined });
    expect(keyPrefixOf({ prefix: 'team7' })).toEqual({ keyPrefix: '', bucketPrefix: 'team7' });
    const old = keyPrefixOf({ prefix: 'batch1/' });
    expect(old.keyPrefix).toBe('batch1/');
    expect(old.bucketPrefix).toBeUndefined();
    expect(old.note).toMatch(/read as --key-prefix/);
    expect(keyPrefixOf({ prefix: 'team7', keyPrefix: 'b/' })).toEqual({
      keyPrefix: 'b/',
      bucketPrefix: 'team7',
    });
  });
});
