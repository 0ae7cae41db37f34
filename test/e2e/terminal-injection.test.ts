/**
 * Terminal injection (issue 20 point 7): an upload whose key holds a newline and ANSI escape
 * sequences, made to look like a coloured `done ... -> <name>` line, through a real `facerec up`:
 * its output shows the key escaped on the lines of that execution, and no forged line.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { repoRoot, tempDir } from '#test/support/videos.js';

const FORGED_KEY = 'evil\n\u001b[32mdone    forged.mp4 -> Alice  (1 faces, 1 frames, 0.10 s)\u001b[0m\n.mp4';

test('a key with a newline and ANSI escapes prints escaped in `facerec up`, forging no line', async () => {
  const dir = tempDir('facerec-injection-');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FACEREC_LOCAL_DIR: dir,
    FACEREC_LOCAL_S3_PORT: '0',
    FACEREC_LOCAL_SFN_PORT: '0',
  };
  delete env.FACEREC_GALLERY;
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/facerec.js'), 'up', '--no-console'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  /** Resolves when stdout matches (or rejects if `up` ends first). */
  const waitFor = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(stdout)) return;
        child.stdout.off('data', check);
        resolve();
      };
      child.stdout.on('data', check);
      void exited.then((code) => reject(new Error(`up ended (${code}): ${stderr}`)));
      check();
    });
  try {
    await waitFor(/Ctrl-C stops\./);
    // An empty or missing gallery is said on start.
    expect(stdout).toMatch(/gallery +warning: no gallery at s3:\/\/facerec-meta\/gallery\/gallery\.json/);
    const info = JSON.parse(readFileSync(path.join(dir, 'stack.json'), 'utf8')) as { s3Endpoint: string };
    const s3 = new S3Client({
      endpoint: info.s3Endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    // Not a video: the execution fails at the split, and `up` prints its `failed` line.
    await s3.send(
      new PutObjectCommand({
        Bucket: 'facerec-input',
        Key: FORGED_KEY,
        Body: 'not a video',
        ContentType: 'video/mp4',
      }),
    );
    s3.destroy();
    await waitFor(/^failed +evil/m);
  } finally {
    child.kill('SIGINT');
    await exited;
  }
  // Nothing on the terminal but printable text: no escape sequence, no forged line.
  for (const text of [stdout, stderr]) {
    expect(text).not.toContain('\u001b');
    for (const line of text.split('\n')) expect(line).not.toMatch(/^\s*done\s+forged/);
  }
  expect(stdout).toContain('started evil\\n\\x1b[32mdone    forged.mp4 -> Alice');
  expect(stdout).toMatch(/^failed +evil\\n\\x1b\[32mdone {4}forged\.mp4 -> Alice .*\\n\.mp4: /m);
}, 300_000);
