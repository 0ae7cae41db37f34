/**
 * `cdk synth` / `cdk deploy` entry point (cdk.json: "app": "npx tsx infra/app.ts").
 *
 * Settings come from CDK context: cdk.json, overrides with `-c key=value`, else the defaults
 * of infra/aws/settings.ts (see docs/deploy.md). cdk-nag's AwsSolutions pack checks the
 * stack on every synth (a CDK policy-validation plugin): an unacknowledged finding stops the
 * synth, and the CLI prints the report.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaceRecStack } from './aws/facerec-stack.js';
import { readSettings } from './aws/settings.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const app = new App();
const stackName = String(app.node.tryGetContext('stackName') ?? 'FaceRec');

try {
  const settings = readSettings((key) => app.node.tryGetContext(key));
  new FaceRecStack(app, stackName, {
    settings,
    projectRoot,
    description: 'facerec: serverless face recognition in uploaded videos (S3 + Lambda + Step Functions)',
    // No `env`: the stack is environment-agnostic, so synth needs no AWS credentials and
    // deploy targets the account and region of the CLI's profile.
  });
} catch (e) {
  // A missing gallery or model is a setup problem: say what to do, without a stack trace.
  process.stderr.write(`\n${(e as Error).message}\n\n`);
  process.exit(1);
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
