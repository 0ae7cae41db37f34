/**
 * Issue 20 point 2: SIGINT and SIGTERM on `facerec up` and on `facerec run` (with a stack of its
 * own, or the one `up` runs) end cleanly: they say what happens to the videos in flight, leave no
 * stack.json and no RUNNING execution without a stack, and the next start resumes what was cut
 * short, its history as AWS writes a redrive. The real command, functions, ffmpeg and models.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '#functions/config.js';
import { pipelineModelId } from '#functions/core/faces/engine.js';
import { emptyGallery } from '#functions/core/gallery/read.js';
import { serializeGallery } from '#functions/core/gallery/write.js';
import { facerec } from '#test/support/cli.js';
import { repoRoot, SAMPLE_IMAGES, tempDir, videoFromImage } from '#test/support/videos.js';

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  /** Resolves when stdout or stderr matches. */
  waitFor: (re: RegExp, ms?: number) => Promise<void>;
  exited: Promise<number | NodeJS.Signals | null>;
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/facerec.js'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, FACEREC_LOCAL_S3_PORT: '0', FACEREC_LOCAL_SFN_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  const check = () => {
    for (const w of [...waiters])
      if (w.re.test(out) || w.re.test(err)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  child.stdout!.setEncoding('utf8').on('data', (c: string) => ((out += c), check()));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => ((err += c), check()));
  // The exit code, or the signal that ended the process (a crash names itself: SIGABRT, SIGSEGV).
  const exited = new Promise<number | NodeJS.Signals | null>((r) =>
    child.on('close', (code, signal) => r(code ?? signal)),
  );
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    waitFor: (re, ms = 240_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms:\n${out}\n${err}`)), ms);
        waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
        check();
      }),
  };
}

let work: string;
let gallery: string;
let videos: string;

beforeAll(async () => {
  work = tempDir('facerec-signals-');
  gallery = path.join(work, 'g.json');
  const g = emptyGallery(pipelineModelId(loadConfig().engine), 128);
  g.people = [
    {
      name: 'Ann',
      images: [
        { file: 'ann.jpg', sha256: 'a'.repeat(64), descriptor: Array.from({ length: 128 }, () => 0.01) },
      ],
    },
  ];
  writeFileSync(gallery, serializeGallery(g));
  videos = path.join(work, 'videos');
  mkdirSync(videos);
  for (let i = 0; i < 6; i++) {
    await videoFromImage(SAMPLE_IMAGES[i % SAMPLE_IMAGES.length], path.join(videos, `clip_${i}.mp4`), {
      seconds: 4,
      height: 720,
    });
  }
}, 240_000);

/** The executions a data folder's journal holds (no stack running), by status. */
async function journaled(env: Record<string, string>): Promise<Array<{ status: string; name: string }>> {
  const r = await facerec(['executions', '--json'], env);
  expect(r.code).toBe(0);
  const parsed = JSON.parse(r.stdout) as
    Array<{ status: string; name: string }> | { executions: Array<{ status: string; name: string }> };
  return Array.isArray(parsed) ? parsed : parsed.executions;
}

test('facerec run with its own stack, Ctrl-C mid-run: says what happens, no stack.json, nothing RUNNING; `up` then resumes the cut-short ones to the end', async () => {
  const env = { FACEREC_LOCAL_DIR: path.join(work, 'run-local'), FACEREC_LOCAL_CONCURRENCY: '1' };
  const run = start(['run', videos, '--gallery', gallery, '--profile', 'cse546-p2'], env);
  await run.waitFor(/local stack: S3/);
  await run.waitFor(/uploaded [1-6]/); // videos in flight
  run.child.kill('SIGINT');
  const code = await run.exited;
  expect(code).toBe(130);
  expect(run.err()).toMatch(/stopping: \d+ of 6 videos done/);
  expect(run.err()).toMatch(
    /stopping the local stack: (no video in flight|\d+ videos? in flight; .*resumed by the next `facerec up` or `facerec run`)/,
  );
  expect(existsSync(path.join(env.FACEREC_LOCAL_DIR, 'stack.json'))).toBe(false);
  const after = await journaled(env);
  expect(after.filter((e) => e.status === 'RUNNING')).toEqual([]);

  // `up` on the same folder: the stopped executions are resumed, the uploads not started reconciled.
  const up = start(['up', '--gallery', gallery, '--profile', 'cse546-p2', '--no-console'], env);
  await up.waitFor(/Ctrl-C stops/);
  for (let i = 0; i < 600; i++) {
    const done = (up.out().match(/^(done|failed) /gm) ?? []).length;
    const started = (up.out().match(/^ {2}clip_\d\.mp4 {2}\(/gm) ?? []).length;
    if (started > 0 && done >= started) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  up.child.kill('SIGTERM');
  expect(await up.exited).toBe(0);
  expect(up.err()).toMatch(/stopping the local stack/);
  expect(existsSync(path.join(env.FACEREC_LOCAL_DIR, 'stack.json'))).toBe(false);
  const final = await journaled(env);
  expect(final.filter((e) => e.status === 'RUNNING')).toEqual([]);
}, 600_000);

test('facerec up: SIGINT with videos in flight stops them (ABORTED, no stack.json); the next up redrives them; run against a running up leaves its videos to it', async () => {
  const env = { FACEREC_LOCAL_DIR: path.join(work, 'up-local'), FACEREC_LOCAL_CONCURRENCY: '1' };
  const up = start(['up', '--gallery', gallery, '--profile', 'cse546-p2', '--no-console'], env);
  await up.waitFor(/Ctrl-C stops/);
  // `run` against the running stack, interrupted: its videos stay with `up`.
  const run = start(['run', videos, '--gallery', gallery, '--profile', 'cse546-p2'], env);
  await run.waitFor(/using the local stack of `facerec up`/);
  await up.waitFor(/^started /m);
  run.child.kill('SIGINT');
  expect(await run.exited).toBe(130);
  expect(run.err()).toMatch(
    /go on in local stack of `facerec up`.*`facerec executions --watch` follows them|stopping: \d+ of 6 videos done/,
  );
  expect(existsSync(path.join(env.FACEREC_LOCAL_DIR, 'stack.json'))).toBe(true); // up still runs

  up.child.kill('SIGINT');
  expect(await up.exited).toBe(0);
  expect(up.err()).toMatch(/stopping the local stack: (no video in flight|\d+ videos? in flight)/);
  expect(existsSync(path.join(env.FACEREC_LOCAL_DIR, 'stack.json'))).toBe(false);
  const stopped = await journaled(env);
  expect(stopped.filter((e) => e.status === 'RUNNING')).toEqual([]);
  const aborted = stopped.filter((e) => e.status === 'ABORTED').map((e) => e.name);

  const again = start(['up', '--gallery', gallery, '--profile', 'cse546-p2', '--no-console'], env);
  // The recovery lines follow the banner (another write: wait for them, not for the banner).
  if (aborted.length) await again.waitFor(new RegExp(`resumed ${aborted.length} executions`));
  else await again.waitFor(/Ctrl-C stops/);
  for (let i = 0; i < 600; i++) {
    if ((again.out().match(/^(done|failed) /gm) ?? []).length >= aborted.length) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  again.child.kill('SIGTERM');
  expect(await again.exited).toBe(0);
  const final = await journaled(env);
  expect(final.filter((e) => e.status === 'RUNNING')).toEqual([]);
  for (const name of aborted) expect(final.find((e) => e.name === name)?.status).not.toBe('ABORTED');
}, 600_000);
