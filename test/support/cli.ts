/** Run the `facerec` command as a user would (bin/facerec.js in a child process), local stack ports 0. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './videos.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function facerec(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/facerec.js'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, FACEREC_LOCAL_S3_PORT: '0', FACEREC_LOCAL_SFN_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
