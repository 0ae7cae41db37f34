/**
 * The CDK app: `cdk synth` / `cdk deploy` entry point (cdk.json: "app": "npx tsx
 * infra/bin/facerec.ts"), in bin/ where CDK projects keep their app; the stack and its parts are
 * in infra/aws/ (beside infra/local/, the same pipeline without AWS).
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
import { FaceRecStack } from '../aws/facerec-stack.js';
import { describeRegion, readSettings } from '../aws/settings.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const app = new App();
const stackName = String(app.node.tryGetContext('stackName') ?? 'FaceRec');

try {
  const settings = readSettings((key) => app.node.tryGetContext(key));
  const regionGiven = ![undefined, ''].includes(app.node.tryGetContext('region') as string | undefined);
  process.stderr.write(`facerec: stack ${stackName} deploys to ${describeRegion(settings, regionGiven)}\n`);
  new FaceRecStack(app, stackName, {
    settings,
    projectRoot,
    description: 'facerec: serverless face recognition in uploaded videos (S3 + Lambda + Step Functions)',
    // The account is never fixed, so synth needs no AWS credentials and deploy targets the
    // account of the CLI's profile; the region is fixed only when a setting (or a cse546
    // profile) names one, else it is the CLI profile's too.
    ...(settings.region ? { env: { region: settings.region } } : {}),
  });
} catch (e) {
  // A missing gallery or model is a setup problem: say what to do, without a stack trace.
  process.stderr.write(`\n${(e as Error).message}\n\n`);
  process.exit(1);
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
