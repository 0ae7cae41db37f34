/**
 * Synthesizes the stack the way `cdk synth` does (cdk.json's context and feature flags, the
 * cdk-nag AwsSolutions plugin), into a temporary cloud assembly, once per test file.
 *
 * Inputs: the real handlers (functions/<name>/handler.ts), the real ASL
 * (statemachine/pipeline.asl.json) and the models built by `npm run models`; the gallery is the
 * fixture (a deployment passes its own).
 */
import { App, Validations, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundleReport } from '#infra/aws/bundling/bundle.js';
import { FaceRecStack } from '#infra/aws/facerec-stack.js';
import { FUNCTION_NAMES, type FunctionName } from '#functions/core/facts.js';
import {
  cdkJsonContext as readCdkJsonContext,
  readSettings,
  type DeploySettings,
} from '#infra/aws/settings.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fixtures = path.join(projectRoot, 'test', 'infra', 'aws', 'fixtures');
export const fixtureGallery = path.join(fixtures, 'gallery.json');
const modelsDir = path.join(projectRoot, 'models', 'generated');

/** The pipeline's handler modules and state machine definition (functions/, statemachine/). */
const entries = Object.fromEntries(
  FUNCTION_NAMES.map((n) => [n, path.join(projectRoot, 'functions', n, 'handler.ts')]),
) as Record<FunctionName, string>;
export const aslPath = path.join(projectRoot, 'statemachine', 'pipeline.asl.json');

export function requireModels(): void {
  if (!existsSync(path.join(modelsDir, 'manifest.json'))) {
    throw new Error(
      `The infra tests need the ONNX models in ${modelsDir} (the recognition bundle carries them). ` +
        'Run `npm run models` (npm ci runs it as postinstall).',
    );
  }
}

export function cdkJsonContext(): Record<string, unknown> {
  return readCdkJsonContext(projectRoot);
}

export interface Synthesized {
  app: App;
  stack: FaceRecStack;
  template: Template;
  settings: DeploySettings;
  /** Cloud assembly directory (deleted by `cleanup`). */
  outdir: string;
  bundles: Map<string, BundleReport>;
  /** The cdk-nag report: every unacknowledged finding. */
  nagViolations: Array<{ rule: string; path: string }>;
  cleanup(): void;
}

/**
 * `context` overrides cdk.json (as `-c key=value` would). Any attempt to run Docker fails the
 * synth: CDK_DOCKER points at a binary that does not exist.
 */
export function synthesize(context: Record<string, unknown> = {}): Synthesized {
  requireModels();
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'facerec-cdk-'));
  const previousDocker = process.env.CDK_DOCKER;
  process.env.CDK_DOCKER = path.join(outdir, 'docker-must-not-run');
  try {
    const app = new App({
      outdir,
      context: { ...cdkJsonContext(), ...context },
    });
    const settings = readSettings((key) => app.node.tryGetContext(key));
    const bundles = new Map<string, BundleReport>();
    const stack = new FaceRecStack(app, 'FaceRec', {
      settings,
      projectRoot,
      entries,
      aslPath,
      modelsDir,
      onBundled: (r) => bundles.set(r.name, r),
      // As infra/bin/facerec.ts: a region a setting (or a cse546 profile) names is fixed in the stack's env.
      ...(settings.region ? { env: { region: settings.region } } : {}),
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    let nagViolations: Synthesized['nagViolations'] = [];
    try {
      app.synth();
    } catch (e) {
      // Validation failures still write the templates; the report lists the findings.
      if (!String(e).includes('Validation failed')) throw e;
    }
    const reportFile = path.join(outdir, 'validation-report.json');
    if (existsSync(reportFile)) {
      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
        pluginReports: Array<{
          violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }>;
        }>;
      };
      nagViolations = report.pluginReports.flatMap((p) =>
        p.violations.flatMap((v) =>
          v.violatingConstructs.map((c) => ({ rule: v.ruleName, path: c.constructPath })),
        ),
      );
    }
    const template = Template.fromJSON(
      JSON.parse(readFileSync(path.join(outdir, `${stack.artifactId}.template.json`), 'utf8')),
    );
    return {
      app,
      stack,
      template,
      settings,
      outdir,
      bundles,
      nagViolations,
      cleanup: () => rmSync(outdir, { recursive: true, force: true }),
    };
  } finally {
    if (previousDocker === undefined) delete process.env.CDK_DOCKER;
    else process.env.CDK_DOCKER = previousDocker;
  }
}

/** Logical id of a construct's CloudFormation resource. */
export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.resolve(stack.getLogicalId(construct.node.defaultChild as never)) as string;
}

/** The resolved CloudFormation form of a token, e.g. `{ 'Fn::GetAtt': [...] }`. */
export function resolved(stack: Stack, value: unknown): unknown {
  return stack.resolve(value);
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }>;

export function resources(template: Template, type?: string): Resources {
  const all = template.toJSON().Resources as Resources;
  return Object.fromEntries(Object.entries(all).filter(([, r]) => !type || r.Type === type));
}

export interface NormalizedStatement {
  effect: string;
  actions: string[];
  resources: unknown[];
  conditions?: unknown;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Every statement that applies to a role: its inline policies and every AWS::IAM::Policy
 * attached to it. Actions and resources sorted, so tests compare sets.
 */
export function statementsOfRole(template: Template, roleLogicalId: string): NormalizedStatement[] {
  const all = resources(template);
  const role = all[roleLogicalId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is not a role`);
  const docs: Array<{ Statement: unknown[] }> = [];
  for (const p of asArray(role.Properties?.Policies as Array<{ PolicyDocument: { Statement: unknown[] } }>)) {
    docs.push(p.PolicyDocument);
  }
  for (const r of Object.values(all)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const roles = asArray(r.Properties?.Roles as Array<{ Ref: string }>);
    if (roles.some((x) => x.Ref === roleLogicalId))
      docs.push(r.Properties!.PolicyDocument as { Statement: unknown[] });
  }
  return docs
    .flatMap((d) => d.Statement as Array<Record<string, unknown>>)
    .map((s) => ({
      effect: s.Effect as string,
      actions: asArray(s.Action as string | string[]).sort(),
      resources: asArray(s.Resource).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      ...(s.Condition ? { conditions: s.Condition } : {}),
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

export const MB = 1024 * 1024;

/** What npm does not install on a Mac or a Linux arm64 host: the linux-x64 binaries the Lambda
 * bundles need (issue 19). */
export const LINUX_X64_ONLY_PACKAGES = [
  '@img/sharp-linux-x64',
  '@img/sharp-libvips-linux-x64',
  '@ffmpeg-installer/linux-x64',
];

/**
 * A copy of the project as a host without `hidden` would have it: the sources the synth reads
 * copied (infra/bin/facerec.ts finds its project root from its own path), node_modules a tree of links
 * to this one's packages minus `hidden`, so this checkout's node_modules is never touched.
 */
export function projectCopyWithout(hidden: readonly string[], into: string): string {
  const copy = path.join(into, 'project');
  mkdirSync(copy, { recursive: true });
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'cdk.json', '.npmrc']) {
    if (existsSync(path.join(projectRoot, f))) cpSync(path.join(projectRoot, f), path.join(copy, f));
  }
  for (const d of ['functions', 'infra', 'statemachine']) {
    cpSync(path.join(projectRoot, d), path.join(copy, d), { recursive: true });
  }
  mkdirSync(path.join(copy, 'models'));
  for (const f of readdirSync(path.join(projectRoot, 'models'))) {
    if (f.endsWith('.ts')) cpSync(path.join(projectRoot, 'models', f), path.join(copy, 'models', f));
  }
  symlinkSync(modelsDir, path.join(copy, 'models', 'generated'));
  const real = path.join(projectRoot, 'node_modules');
  const nm = path.join(copy, 'node_modules');
  mkdirSync(nm);
  for (const entry of readdirSync(real)) {
    if (entry.startsWith('@')) {
      mkdirSync(path.join(nm, entry));
      for (const pkg of readdirSync(path.join(real, entry))) {
        if (!hidden.includes(`${entry}/${pkg}`))
          symlinkSync(path.join(real, entry, pkg), path.join(nm, entry, pkg));
      }
    } else if (!hidden.includes(entry)) {
      symlinkSync(path.join(real, entry), path.join(nm, entry));
    }
  }
  return copy;
}
