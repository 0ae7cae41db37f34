/**
 * `npx cdk synth` itself (cdk.json's app command, the CLI, cdk-nag on synth), as CI and users
 * run it: offline, with no AWS credentials and no Docker.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assemblyFunctions } from '#infra/aws/bundling/run-bundle.js';
import { projectRoot, requireModels } from './support.js';

let out: string;
beforeAll(() => {
  requireModels();
  out = mkdtempSync(path.join(os.tmpdir(), 'facerec-cdk-cli-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

function cdk(args: string[]) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // No credentials, no instance metadata, no Docker: synth must not need any of them.
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DOCKER: path.join(out, 'docker-must-not-run'),
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
  const started = Date.now();
  const r = spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', ...args], {
    cwd: projectRoot,
    env,
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { ...r, seconds: (Date.now() - started) / 1000 };
}

/** The account/region the cloud assembly deploys the stack to. */
const environment = (dir: string) =>
  (
    JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { environment?: string }>;
    }
  ).artifacts.FaceRec.environment;

test('npx cdk synth writes the template and all four bundles, with no gallery file (the gallery is in S3)', () => {
  const dir = path.join(out, 'ok');
  const r = cdk(['-c', 'prefix=ci-facerec', '-o', dir]);
  console.log(`npx cdk synth: ${r.seconds.toFixed(1)} s`);
  expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
  const template = JSON.parse(readFileSync(path.join(dir, 'FaceRec.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: { BucketName?: string } }>;
  };
  const buckets = Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::S3::Bucket')
    .map((r) => r.Properties.BucketName)
    .sort();
  expect(buckets).toEqual(['ci-facerec-input', 'ci-facerec-meta', 'ci-facerec-output', 'ci-facerec-stage-1']);
  for (const line of ['starter', 'splitter', 'recognition', 'result']) {
    expect(r.stderr).toContain(`facerec: ${line} bundle`);
  }
  // The default profile: no region fixed, the CLI profile's applies (and synth says so).
  expect(r.stderr).toContain("facerec: stack FaceRec deploys to the region of the AWS CLI's profile");
  expect(environment(dir)).toBe('aws://unknown-account/unknown-region');
  // cdk-nag ran on synth: success, and every acknowledged finding is listed with its reason.
  const report = JSON.parse(readFileSync(path.join(dir, 'validation-report.json'), 'utf8')) as {
    pluginReports: Array<{
      pluginName: string;
      conclusion: string;
      violations: unknown[];
      suppressedViolations?: Array<{ reason: string }>;
    }>;
  };
  const nag = report.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
  expect(nag).toMatchObject({ conclusion: 'success', violations: [] });
  for (const v of nag!.suppressedViolations ?? []) expect(v.reason.length).toBeGreaterThan(60);
});

/** The folder of the npm package a file belongs to (its last `node_modules/<name>` or
 * `node_modules/@scope/<name>`), or undefined for the project's own sources. */
function packageFolder(file: string): string | undefined {
  const m = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file);
  return m?.[1];
}

/** Every npm package a bundle holds, with its licence: the packages esbuild inlined into index.mjs
 * (from its source map) and those copied whole into its node_modules (native parts). */
function bundledPackages(assetDir: string): Map<string, string> {
  const map = JSON.parse(readFileSync(path.join(assetDir, 'index.mjs.map'), 'utf8')) as { sources: string[] };
  const folders = new Set<string>();
  for (const source of map.sources) {
    const folder = packageFolder(path.resolve(assetDir, source));
    if (folder) folders.add(folder);
  }
  const copied = path.join(assetDir, 'node_modules');
  if (existsSync(copied)) {
    for (const entry of readdirSync(copied)) {
      const names = entry.startsWith('@')
        ? readdirSync(path.join(copied, entry)).map((n) => `${entry}/${n}`)
        : [entry];
      for (const n of names) folders.add(path.join(copied, n));
    }
  }
  const licences = new Map<string, string>();
  for (const folder of folders) {
    const pkg = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as {
      name: string;
      license?: string;
    };
    licences.set(pkg.name, pkg.license ?? '(none)');
  }
  return licences;
}

test("no Lambda bundle holds AGPL code: local mode's IAM evaluator (@cloud-copilot/iam-simulate) stays out of what is deployed", () => {
  const functions = assemblyFunctions(path.join(out, 'ok'));
  expect(Object.keys(functions).sort()).toEqual(['recognition', 'result', 'splitter', 'starter']);
  for (const fn of Object.values(functions)) {
    const licences = bundledPackages(fn.assetDir);
    // The source map is read right: every bundle inlines the AWS SDK or middy.
    expect([...licences.keys()].some((n) => n.startsWith('@aws-sdk/') || n.startsWith('@middy/'))).toBe(true);
    const agpl = [...licences].filter(
      ([name, licence]) => /AGPL/i.test(licence) || name.startsWith('@cloud-copilot/'),
    );
    expect({ fn: fn.name, agpl }).toEqual({ fn: fn.name, agpl: [] });
  }
});

test('a gallery file that does not exist (-c gallery=<file>) stops the synth with a message that says what to pass', () => {
  const r = cdk(['-c', 'gallery=does/not/exist.json', '-o', path.join(out, 'missing')]);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/Gallery .*does\/not\/exist\.json not found.*-c gallery=/s);
  expect(r.stderr).not.toMatch(/Bundling asset/);
});

test('the course profiles deploy to us-east-1 unless told otherwise, and synth says so', () => {
  // Image packaging: no bundling, the region is all that is looked at here.
  const course = path.join(out, 'course');
  const r = cdk(['-c', 'profile=cse546-p2', '-c', 'prefix=ci-course', '-c', 'packaging=image', '-o', course]);
  expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
  expect(r.stderr).toContain(
    "facerec: stack FaceRec deploys to us-east-1 (the cse546-p2 profile's graders read us-east-1",
  );
  expect(environment(course)).toBe('aws://unknown-account/us-east-1');
  const template = readFileSync(path.join(course, 'FaceRec.template.json'), 'utf8');
  expect(template).toContain('"ExpirationInDays": 14');

  const told = path.join(out, 'told');
  const t = cdk(['-c', 'profile=cse546-p2', '-c', 'region=eu-west-1', '-c', 'packaging=image', '-o', told]);
  expect(t.status).toBe(0);
  expect(t.stderr).toContain('facerec: stack FaceRec deploys to eu-west-1 (-c region)');
  expect(environment(told)).toBe('aws://unknown-account/eu-west-1');
});
