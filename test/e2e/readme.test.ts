/**
 * Every command of the README runs as written (issue 20 point 5). The `facerec` lines of the
 * README's shell blocks are read from README.md itself, in order, and:
 * - each one parses against the real command line (commands, options, required options, value
 *   checks), `--aws` ones included;
 * - each one that needs no AWS account runs for real, in README order, in a folder laid out as
 *   the README says (people/, photo.jpg, more-photos/, a.jpg, b.jpg, folder/, videos/ with
 *   clip.mp4, expected.csv), with its own data folder and ports: enroll, identify, compare, run,
 *   executions, report, up (in the background, stopped after the next command), reconcile,
 *   workload, grade, --version. Each must end with exit code 0.
 * `npx facerec` is run as `node bin/facerec.js` (the same program); `up` gets `--console-port 0`
 * like the stacks get ports 0 (other stacks may run on this machine).
 * The `npm run` scripts the README names must exist.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { loadConfig } from '#functions/config.js';
import { createFaceEngine } from '#functions/core/faces/engine.js';
import { buildProgram } from '#cli/program.js';
import { demoPeople, faceCrop, personFrame, type Person } from '#cli/lib/demo-data.js';
import { stillToVideo } from '#cli/lib/still-video.js';
import { ffmpegPath, repoRoot, SAMPLE_IMAGES, tempDir } from '#test/support/videos.js';

const exec = promisify(execFile);
const README = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

/** The `npx facerec ...` lines of the README's shell blocks, comments removed. */
function readmeCommands(): string[][] {
  const blocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line.startsWith('npx facerec'))
    .map((line) =>
      line
        .split(/\s+/)
        .slice(2)
        .map((arg) => arg.replace(/^<prefix>$/, 'my-prefix')),
    );
}

/** The program with every action replaced: parsing only. */
function parsingProgram(errors: string[]): Command {
  const program = buildProgram({ writeOut: () => undefined, writeErr: (s) => errors.push(s) });
  const stub = (c: Command) => {
    c.action(() => undefined);
    c.commands.forEach(stub);
  };
  program.commands.forEach(stub);
  return program;
}

test('the README names facerec commands, and every npm script it names exists', () => {
  const commands = readmeCommands();
  expect(commands.length).toBeGreaterThanOrEqual(12);
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const scripts = [...README.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]);
  expect(scripts.length).toBeGreaterThan(5);
  for (const s of new Set(scripts))
    expect({ script: s, exists: s in pkg.scripts }).toEqual({ script: s, exists: true });
  expect(pkg.scripts.start).toBeDefined();
  expect(pkg.scripts.test).toBeDefined();
});

test.each(readmeCommands().map((args) => [args.join(' '), args]))(
  'parses as written: facerec %s',
  async (_, args) => {
    const errors: string[] = [];
    const program = parsingProgram(errors);
    // --version prints and exits 0 (commander throws it as an exit with code 0).
    await program
      .parseAsync(['node', 'facerec', ...(args as string[])])
      .catch((err: { exitCode?: number }) => {
        if (err.exitCode !== 0) throw err;
      });
    expect(errors).toEqual([]);
  },
);

/** A folder laid out as the README says, from the demo photos every install has. */
async function readmeFolder(dir: string): Promise<{ expected: Record<string, string> }> {
  const engine = await createFaceEngine(loadConfig().engine);
  const people = await demoPeople(engine);
  const byName = (n: string) => people.find((p) => p.name === n)!;
  // people/<name>/face.jpg: everyone in the demo photos, as `npm start` enrolls them.
  for (const p of people) {
    await mkdir(path.join(dir, 'people', p.name), { recursive: true });
    await writeFile(path.join(dir, 'people', p.name, 'face.png'), await faceCrop(p, 1.6));
  }
  await copyFile(SAMPLE_IMAGES[2], path.join(dir, 'photo.jpg'));
  await mkdir(path.join(dir, 'more-photos'));
  await copyFile(SAMPLE_IMAGES[3], path.join(dir, 'more-photos', 'one.jpg'));
  await copyFile(SAMPLE_IMAGES[4], path.join(dir, 'more-photos', 'two.jpg'));
  await copyFile(SAMPLE_IMAGES[0], path.join(dir, 'a.jpg'));
  await copyFile(SAMPLE_IMAGES[1], path.join(dir, 'b.jpg'));
  await mkdir(path.join(dir, 'folder'));
  await copyFile(SAMPLE_IMAGES[0], path.join(dir, 'folder', 'same.jpg'));
  await copyFile(SAMPLE_IMAGES[5], path.join(dir, 'folder', 'other.jpg'));
  // videos/: clip.mp4, one person; duo.mp4, one person for 2 s, then another for 2 s.
  await mkdir(path.join(dir, 'videos'));
  const still = async (p: Person, name: string) => {
    const file = path.join(dir, `${name}.png`);
    await writeFile(file, await personFrame(p, people, { factor: 2.1, width: 720, height: 720 }));
    return file;
  };
  // Not sample2-face1: its enrolled crop and its video frame are 0.55 apart, which the calibrated
  // threshold of these look-alike crops (0.325, functions/core/faces/open-set.ts) rightly refuses.
  const [a, b, c] = ['sample1-face1', 'sample3-face1', 'sample4-face1'].map(byName);
  await stillToVideo(ffmpegPath(), await still(a, 'a-still'), path.join(dir, 'videos', 'clip.mp4'), {
    seconds: 2,
    preset: 'ultrafast',
  });
  const [bs, cs] = [await still(b, 'b-still'), await still(c, 'c-still')];
  await exec(ffmpegPath(), [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-loop', '1', '-t', '2', '-i', bs, '-loop', '1', '-t', '2', '-i', cs],
    ...[
      '-filter_complex',
      '[0:v]setsar=1[a];[1:v]setsar=1[b];[a][b]concat=n=2:v=1[v]',
      '-map',
      '[v]',
      '-r',
      '25',
    ],
    ...[
      '-pix_fmt',
      'yuv420p',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      path.join(dir, 'videos', 'duo.mp4'),
    ],
  ]);
  // lecture.mp4 (sampled at a frame a second) and staff/ (a directory, one photo a person).
  await copyFile(path.join(dir, 'videos', 'duo.mp4'), path.join(dir, 'lecture.mp4'));
  for (const p of people.slice(0, 6)) {
    await mkdir(path.join(dir, 'staff', p.name), { recursive: true });
    await writeFile(path.join(dir, 'staff', p.name, 'photo.png'), await faceCrop(p, 1.6));
  }
  // cse546-p2 takes the frame at t=0: duo.mp4 is the first person's.
  const expected = { 'clip.mp4': a.name, 'duo.mp4': b.name };
  await writeFile(
    path.join(dir, 'expected.csv'),
    `video,expected_name\n${Object.entries(expected)
      .map(([v, n]) => `${v},${n}`)
      .join('\n')}\n`,
  );
  return { expected: { ...expected, duoSecond: c.name } };
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the README, run as written', () => {
  const dir = tempDir('facerec-readme-');
  const env = {
    ...process.env,
    FACEREC_LOCAL_DIR: path.join(dir, '.facerec'),
    FACEREC_LOCAL_S3_PORT: '0',
    FACEREC_LOCAL_SFN_PORT: '0',
  } as NodeJS.ProcessEnv;
  delete env.FACEREC_GALLERY;
  delete env.FACEREC_PROFILE;
  delete env.STATE_MACHINE_ARN;
  const bin = path.join(repoRoot, 'bin/facerec.js');
  let names: Record<string, string>;
  const children: ChildProcess[] = [];

  const start = (args: string[]) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const out: Ran = { code: null, stdout: '', stderr: '' };
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
    const done = new Promise<Ran>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ ...out, code }));
    });
    return { child, out, done };
  };
  const run = (args: string[]) => start(args).done;

  beforeAll(async () => {
    names = (await readmeFolder(dir)).expected;
  }, 300_000);
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  test('every command that needs no AWS account, in README order, exits 0', async () => {
    let up: ReturnType<typeof start> | undefined;
    const ran: string[] = [];
    for (const args of readmeCommands()) {
      const line = args.join(' ');
      if (args.includes('--aws')) continue; // parsed above; needs an AWS account
      if (args[0] === 'up') {
        up = start([...args, '--console-port', '0']);
        await new Promise<void>((resolve, reject) => {
          const check = () => (up!.out.stdout.includes('Ctrl-C stops.') ? resolve() : undefined);
          up!.child.stdout!.on('data', check);
          up!.done.then((r) => reject(new Error(`up ended (${r.code}): ${r.stderr}`)), reject);
          check();
        });
        // The last run's gallery, kept in the stack's meta bucket: no warning.
        expect(up.out.stdout).toMatch(
          /gallery +gallery: \d+ people \(s3:\/\/facerec-meta\/gallery\/gallery\.json\)/,
        );
        ran.push(line);
        continue;
      }
      const r = await run(args);
      // On a failure, what the command printed says why (a failed video's reason is on stdout).
      expect({ line, code: r.code, output: r.code === 0 ? '' : `${r.stdout}\n${r.stderr}` }).toEqual({
        line,
        code: 0,
        output: '',
      });
      ran.push(line);
      if (up && args[0] === 'reconcile') {
        // `up` has served the commands meant for it; step 4 starts a stack of its own profile.
        expect(r.stdout).toMatch(/nothing to start/);
        up.child.kill('SIGINT');
        const stopped = await up.done;
        // Stopped cleanly (Ctrl-C: 0, or 130 if `up` reports the interrupt as such).
        expect([0, 130]).toContain(stopped.code);
        up = undefined;
      }
      switch (args[0]) {
        case 'enroll':
          // gallery.json, then the staff directory's binary store.
          expect(existsSync(path.join(dir, args[args.indexOf('--gallery') + 1]))).toBe(true);
          break;
        case 'gallery':
          if (args[1] === 'convert') expect(existsSync(path.join(dir, args[3]))).toBe(true);
          break;
        case 'identify':
          expect(readdirSync(path.join(dir, 'out')).length).toBe(3);
          break;
        case 'run':
          if (args[1] === 'lecture.mp4') {
            // A frame a second: both people of the clip, each with the interval they appear in.
            expect(r.stdout).toMatch(
              new RegExp(
                `lecture\\.mp4 +(${names['duo.mp4']}, ${names.duoSecond}|${names.duoSecond}, ${names['duo.mp4']}) `,
              ),
            );
            expect(r.stdout).toMatch(new RegExp(`${names['duo.mp4']} +0\\.0s-1\\.0s`));
            expect(r.stdout).toMatch(new RegExp(`${names.duoSecond} +2\\.0s-3\\.0s`));
            break;
          }
          // Everyone in each video, most screen time first, and when they appear.
          expect(r.stdout).toMatch(new RegExp(`clip\\.mp4 +${names['clip.mp4']} `));
          expect(r.stdout).toMatch(/duo\.mp4 +\S+, \S+ /);
          expect(r.stdout).toContain(names['duo.mp4']);
          expect(r.stdout).toContain(names.duoSecond);
          expect(r.stdout).toMatch(/who appears when/);
          expect(r.stderr).toMatch(/gallery: \d+ people/);
          break;
        case 'report':
          expect(existsSync(path.join(dir, 'report.html'))).toBe(true);
          break;
        case 'metrics':
          // After `run`: the videos it answered, as the functions' metric lines counted them.
          expect(r.stdout).toMatch(/^Videos +- +Count +\d+ +[1-9]\d*\b/m);
          break;
        case 'workload':
          expect(r.stdout).toMatch(new RegExp(`duo\\.mp4 +${names['duo.mp4']} `));
          break;
        case 'grade':
          expect(r.stdout).toMatch(/Total score: (\d+)\/\1\n/);
          break;
      }
    }
    expect(up).toBeUndefined();
    expect(ran.map((l) => l.split(' ')[0])).toEqual(
      expect.arrayContaining([
        'enroll',
        'identify',
        'compare',
        'run',
        'executions',
        'up',
        'reconcile',
        'workload',
        'grade',
      ]),
    );
  }, 900_000);
});
