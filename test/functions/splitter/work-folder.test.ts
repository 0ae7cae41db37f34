/**
 * Issue 21, finding 7: a killed splitter left its work folder (the video and its frames, 87 MB
 * for a 90 s clip) in temporary storage forever. Work folders carry their process's pid and token;
 * the next splitter removes those whose process is gone, and keeps those of live ones.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeWorkFolder, processToken, sweepWorkFolders } from '#functions/splitter/work-folder.js';
import { repoRoot, tempDir } from '#test/support/videos.js';

/** A splitter's work folder made by another process, which is then killed with SIGKILL (or kept). */
async function folderOfChild(dir: string, kill: boolean): Promise<{ folder: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `const { makeWorkFolder } = await import(${JSON.stringify(path.join(repoRoot, 'functions/splitter/work-folder.ts'))});
       const f = await makeWorkFolder(${JSON.stringify(dir)});
       (await import('node:fs')).writeFileSync(f + '/video.mp4', 'x'.repeat(1000));
       console.log(f); setInterval(() => {}, 1000);`,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const folder = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  if (kill) {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  return { folder, stop: () => child.kill('SIGKILL') };
}

test('the folders of a killed splitter are removed by the next one; those of live ones stay', async () => {
  const dir = tempDir('facerec-work-folders-');
  const dead = await folderOfChild(dir, true);
  const live = await folderOfChild(dir, false);
  try {
    const mine = await makeWorkFolder(dir);
    // Folders of the naming before pids: an old one is removed, a recent one kept.
    const oldUnowned = path.join(dir, 'facerec-split-AbC123');
    const newUnowned = path.join(dir, 'facerec-split-XyZ789');
    for (const f of [oldUnowned, newUnowned]) mkdirSync(f);
    writeFileSync(path.join(oldUnowned, 'frame-0000.jpg'), 'x');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(oldUnowned, twoHoursAgo, twoHoursAgo);
    // An earlier process that had this very pid (a Lambda runtime restarted in its sandbox).
    const samePid = path.join(dir, `facerec-split-${process.pid}-00000000-abcdef`);
    mkdirSync(samePid);

    const removed = sweepWorkFolders(dir).sort();
    expect(removed).toEqual(
      [path.basename(dead.folder), path.basename(oldUnowned), path.basename(samePid)].sort(),
    );
    expect(existsSync(dead.folder)).toBe(false);
    for (const kept of [live.folder, mine, newUnowned]) expect(existsSync(kept)).toBe(true);
  } finally {
    live.stop();
  }
}, 60_000);

test("another thread's folders are live: local mode runs execution environments as worker threads of one process", async () => {
  const dir = tempDir('facerec-work-folders-');
  const module = path.join(repoRoot, 'functions/splitter/work-folder.ts');
  // A worker thread with its own copy of the module, as each local splitter environment has.
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     import('tsx/esm/api').then(async ({ register }) => {
       register();
       const m = await import(${JSON.stringify(module)});
       parentPort.postMessage({ folder: await m.makeWorkFolder(${JSON.stringify(dir)}), token: m.processToken() });
     });`,
    { eval: true },
  );
  try {
    const [{ folder, token }] = (await once(worker, 'message')) as [{ folder: string; token: string }];
    expect(token).toBe(processToken());
    expect(sweepWorkFolders(dir)).toEqual([]);
    expect(existsSync(folder)).toBe(true);
  } finally {
    await worker.terminate();
  }
}, 60_000);
