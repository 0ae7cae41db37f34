/** Runs the real `facerec` command in a child process, as a user would, for the benchmarks. */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from './face-frames.js';

export interface FacerecRun {
  code: number;
  stdout: string;
  ms: number;
}

/** stdout is collected (the commands print JSON there with --json); stderr goes to ours. */
export function runFacerec(argv: string[], env: NodeJS.ProcessEnv): Promise<FacerecRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/facerec.js'), ...argv], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, ms: performance.now() - t0 }));
  });
}

/** Environment for child commands that start their own local stack: its data in `dir`
 * (emptied first, so each run starts clean) and ephemeral ports. */
export async function freshLocalStackEnv(dir: string): Promise<NodeJS.ProcessEnv> {
  await rm(dir, { recursive: true, force: true });
  return { ...process.env, FACEREC_LOCAL_DIR: dir, FACEREC_LOCAL_S3_PORT: '0', FACEREC_LOCAL_SFN_PORT: '0' };
}
