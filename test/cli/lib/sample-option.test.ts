/** `--sample` on `facerec run` and `facerec up`: the default profile's sampling, by count or rate. */
import path from 'node:path';
import { Command } from 'commander';
import { sampleConflict, sampleOption } from '#cli/lib/options.js';
import { facerec } from '#test/support/cli.js';
import { tempDir } from '#test/support/videos.js';

function parse(argv: string[]): Record<string, unknown> {
  let flags: Record<string, unknown> = {};
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
  program
    .command('x')
    .addOption(sampleOption())
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .action((f: Record<string, unknown>) => {
      flags = f;
    });
  program.parse(['node', 'facerec', 'x', ...argv]);
  return flags;
}

test('a count or a rate, handed on in the setting short form; anything else refused with what is accepted', () => {
  expect(parse([])).toEqual({});
  expect(parse(['--sample', '10'])).toEqual({ sample: '10' });
  expect(parse(['--sample', '1/s'])).toEqual({ sample: '1/s' });
  expect(parse(['--sample', '2 per minute'])).toEqual({ sample: '2/min' });
  expect(() => parse(['--sample', 'often'])).toThrow(/argument 'often' is invalid.*a rate up to 30\/s/);
});

test('with a cse546 profile, --sample is a usage error', () => {
  expect(sampleConflict({ sample: '1/s', profile: 'cse546-p2' })).toMatch(/applies to the default profile/);
  expect(sampleConflict({ sample: '1/s', profile: 'default' })).toBeUndefined();
  expect(sampleConflict({ profile: 'cse546-p1' })).toBeUndefined();
});

test('`facerec run --sample 1/s --profile cse546-p2` exits 2 before starting anything', async () => {
  const dir = tempDir('facerec-sample-cli-');
  const video = path.join(dir, 'v.mp4');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(video, 'x');
  const r = await facerec(['run', video, '--sample', '1/s', '--profile', 'cse546-p2'], {
    FACEREC_LOCAL_DIR: dir,
  });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(
    /--sample applies to the default profile; cse546-p2 samples as the course's command does/,
  );
}, 60_000);
