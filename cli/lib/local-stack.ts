/**
 * The local stack as the commands find it: one `facerec up` (or a running `facerec run`)
 * advertises in `<FACEREC_LOCAL_DIR>/stack.json`, or one started in this process. Which stack a
 * command talks to, and through which clients, is decided in target.ts.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ENV, loadConfig, type Config } from '../../functions/config.js';
import type { Profile } from '../../functions/core/facts.js';
import { pipelineModelId } from '../../functions/core/faces/engine.js';
import { readGallery } from '../../functions/core/gallery/read.js';
import { parseS3Uri } from '../../functions/core/layout.js';
import { UsageError } from './errors.js';
import {
  readStackInfo,
  startLocalStack,
  type Env,
  type LocalStack,
  type StackInfo,
} from '../../infra/local/stack.js';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** GET on the local Step Functions endpoint answers with its state machine. */
function ping(url: string, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** The stack `facerec up` (or a running `facerec run`) advertises, if it is alive. */
export async function findRunningStack(dir: string): Promise<StackInfo | undefined> {
  const info = readStackInfo(dir);
  if (!info || !pidAlive(info.pid)) return undefined;
  return (await ping(info.sfnEndpoint)) ? info : undefined;
}

export interface StackRequest {
  profile?: Profile;
  gallery?: string;
  /** Extra settings for a stack started here. */
  env?: Env;
  logLevel?: string;
}

/** A running stack must have what the command asked for: else say how to get it. */
export function checkRunningStack(running: StackInfo, req: StackRequest): void {
  if (req.profile && req.profile !== running.profile) {
    throw new Error(
      `a local stack (pid ${running.pid}) runs with profile ${running.profile}; stop it or use --profile ${running.profile}`,
    );
  }
  const sample = req.env?.[ENV.FACEREC_SAMPLE];
  if (sample && running.sampling !== undefined && sample !== running.sampling) {
    throw new Error(
      `a local stack (pid ${running.pid}) samples ${running.sampling}; stop it or use --sample ${running.sampling}`,
    );
  }
  if (req.gallery && path.resolve(req.gallery) !== running.gallery) {
    throw new Error(
      `a local stack (pid ${running.pid}) runs with gallery ${running.gallery ?? '(none)'}; stop it or use that gallery`,
    );
  }
}

/** A running local stack (checked for conflicting settings), or a new one in this process. */
export async function ensureStack(req: StackRequest): Promise<{ info: StackInfo; stack?: LocalStack }> {
  const config = loadConfig({ ...process.env, ...req.env } as NodeJS.ProcessEnv);
  const running = await findRunningStack(config.pipeline.local.dir);
  if (running) {
    checkRunningStack(running, req);
    return { info: running };
  }
  const env: Env = {
    ...req.env,
    ...(req.profile ? { [ENV.FACEREC_PROFILE]: req.profile } : {}),
    ...(req.gallery ? { [ENV.FACEREC_GALLERY]: path.resolve(req.gallery) } : {}),
    ...(req.logLevel ? { [ENV.FACEREC_LOG_LEVEL]: req.logLevel } : {}),
  };
  await preflight(loadConfig({ ...process.env, ...env } as NodeJS.ProcessEnv));
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ env, advertise: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    // The default ports are taken (another program): any free ports will do.
    stack = await startLocalStack({
      env: { ...env, [ENV.FACEREC_LOCAL_S3_PORT]: '0', [ENV.FACEREC_LOCAL_SFN_PORT]: '0' },
      advertise: true,
    });
  }
  return { info: stack.info, stack };
}

/** Fail fast, with a clear message, on what would fail every video: no models, a gallery file
 * that is missing or not a gallery of this engine. (No gallery at all is not an error: the stack
 * reads the one its meta bucket holds; gallery-check.ts warns when that holds nobody.) */
export async function preflight(config: Config): Promise<void> {
  if (!existsSync(path.join(config.engine.modelsDir, 'manifest.json'))) {
    throw new Error(
      `no face models in ${config.engine.modelsDir}: run \`npm run models\` (npm ci runs it too)`,
    );
  }
  if (config.galleryPath && !parseS3Uri(config.galleryPath)) {
    if (!existsSync(config.galleryPath))
      throw new UsageError(
        `gallery file ${config.galleryPath}: no such file (make one with \`facerec enroll <people-folder> --gallery ${config.galleryPath}\`)`,
      );
    await readGallery(config.galleryPath, pipelineModelId(config.engine));
  }
}
