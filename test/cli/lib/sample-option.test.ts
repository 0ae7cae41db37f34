/** `--sample` on `facerec run` and `facerec up`: the default profile's sampling, by count or rate. */
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { sampleConflict, sampleOption } from '#cli/lib/options.js';
import { facerec } from '#test/support/cli.js';
import { tempDir } from '#test/support/videos.js';

/** What the command receives for `--sample <text>`. */
const parse = (text: string) => sampleOption().parseArg!(text, undefined);

test('a count or a rate, handed on in the setting short form; anything else refused with what is accepted', () => {
  expect(sampleOption().long).toBe('--sample');
  expect(parse('10')).toBe('10');
  expect(parse('1/s')).toBe('1/s');
  expect(parse('2 per minute')).toBe('2/min');
  expect(() => parse('often')).toThrow(InvalidArgumentError);
  expect(() => parse('often')).toThrow(/a rate up to 30\/s/);
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
