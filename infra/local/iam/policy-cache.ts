/**
 * The synthesized policy set, cached on disk: synthesizing the CDK app takes seconds (loading
 * aws-cdk-lib and building the stack), so a stack start reuses the set synthesized for the same
 * inputs. The cache key covers what the policies are made from: the CDK app's sources
 * (infra/aws/**), the shared facts and layout, cdk.json, aws-cdk-lib's version, this synthesizer,
 * and the settings (prefix, profile, region, gallery, ARNs). A miss synthesizes in a child process
 * (aws-cdk-lib stays out of the stack's process) and writes the set atomically.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PolicySet, PolicySource } from './policy-set.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '..', '..', '..');
const SYNTH_SCRIPT = path.join(here, 'synth.ts');

/** Files whose content decides the synthesized policies. */
function policyInputs(): string[] {
  const tree = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? tree(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
    );
  return [
    ...tree(path.join(projectRoot, 'infra', 'aws')).sort(),
    path.join(projectRoot, 'functions', 'core', 'facts.ts'),
    path.join(projectRoot, 'functions', 'core', 'layout.ts'),
    path.join(projectRoot, 'cdk.json'),
    path.join(projectRoot, 'node_modules', 'aws-cdk-lib', 'package.json'),
    path.join(here, 'synth.ts'),
    path.join(here, 'cfn-resolve.ts'),
    path.join(here, 'policy-set.ts'),
  ];
}

function policyCacheKey(source: PolicySource): string {
  const h = createHash('sha256').update(JSON.stringify(source));
  for (const file of policyInputs()) h.update(file).update('\u0000').update(readFileSync(file));
  return h.digest('hex').slice(0, 32);
}

const policyCacheDir = () => path.join(projectRoot, 'node_modules', '.cache', 'facerec-iam');

export interface LoadedPolicies {
  set: PolicySet;
  /** Read from the cache (else synthesized now). */
  cached: boolean;
  ms: number;
}

/** The policy set for `source`: from the cache, else synthesized (and cached). */
export async function loadPolicySet(
  source: PolicySource,
  cacheDir = policyCacheDir(),
): Promise<LoadedPolicies> {
  const started = performance.now();
  const file = path.join(cacheDir, `${policyCacheKey(source)}.json`);
  try {
    if (statSync(file).isFile()) {
      const set = JSON.parse(readFileSync(file, 'utf8')) as PolicySet;
      return { set, cached: true, ms: performance.now() - started };
    }
  } catch {
    // not cached (or unreadable): synthesize
  }
  const set = await synthesizeInChild(source);
  try {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, JSON.stringify(set));
    renameSync(tmp, file);
  } catch {
    // A read-only checkout still works: it synthesizes on every start.
  }
  return { set, cached: false, ms: performance.now() - started };
}

async function synthesizeInChild(source: PolicySource): Promise<PolicySet> {
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', SYNTH_SCRIPT, JSON.stringify(source)],
      {
        cwd: projectRoot,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
      },
    );
    return JSON.parse(stdout) as PolicySet;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(
      `local IAM: synthesizing the CDK app's policies failed (${e.stderr?.trim().split('\n').at(-1) ?? e.message}). ` +
        'Fix the stack (npx cdk synth shows the error), or start with FACEREC_LOCAL_IAM=off.',
      { cause: err },
    );
  }
}
