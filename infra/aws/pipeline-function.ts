/**
 * One construct fixes what all four functions share: the runtime, the architecture, a log
 * group with retention, a role that may write to that log group and nothing else (callers add
 * exactly what each function needs), X-Ray tracing, and how the code is packaged: a zip
 * bundled locally with esbuild (default: no Docker needed), or a container image built from
 * functions/Dockerfile (one for the four functions; the build argument FUNCTION says which).
 */
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IgnoreMode } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import path from 'node:path';
import { bundleFunction, formatMB, type BundleReport, type BundleSpec } from './bundling/bundle.js';
import { LAMBDA_NODE_MAJOR, LAMBDA_RUNTIME_NAME } from './bundling/lambda-runtime.js';
import type { FunctionName } from '../../functions/core/facts.js';

/**
 * x86_64, deliberately: the installed prebuilt binaries are linux-x64 (sharp's @img packages,
 * the static ffmpeg), so only x86_64 bundles can be built offline from this node_modules.
 * onnxruntime-node ships linux/arm64 too; arm64 would be ~20% cheaper per GB-second, but
 * needs `npm i --os=linux --cpu=arm64` for sharp and an arm64 ffmpeg first.
 */
export const ARCHITECTURE = lambda.Architecture.X86_64;

/** The Lambda runtime of lambda-runtime.ts's Node major (the bundles target the same major). */
const RUNTIME = lambdaRuntime(LAMBDA_RUNTIME_NAME);

function lambdaRuntime(name: string): lambda.Runtime {
  const known = lambda.Runtime.ALL.find((r) => r.name === name);
  if (!known)
    throw new Error(`aws-cdk-lib knows no Lambda runtime ${name}: update aws-cdk-lib or LAMBDA_NODE_MAJOR`);
  return known;
}

type Packaging = 'zip' | 'image';

export interface PipelineFunctionProps {
  name: FunctionName;
  /** Explicit Lambda function name (the cse546 graders look functions up by name); default
   * CloudFormation-generated. */
  functionName?: string;
  description: string;
  packaging: Packaging;
  /** What goes into the zip (packaging `zip`). */
  bundle: BundleSpec;
  /** Build context of the image (packaging `image`): the repository root. */
  projectRoot: string;
  /** Extra `docker build --build-arg`s (packaging `image`). */
  imageBuildArgs?: Record<string, string>;
  /** Extra paths the image build context needs, relative to projectRoot (packaging `image`). */
  imageContextPaths?: string[];
  memorySize: number;
  timeout: Duration;
  ephemeralStorage?: Size;
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  /** Called with the bundle's report after local bundling (sizes, for logs and tests). */
  onBundled?: (report: BundleReport) => void;
}

/** The Dockerfile of the four function images, relative to the repository root. */
export const IMAGE_DOCKERFILE = 'functions/Dockerfile';

/** The `docker build --build-arg`s of a function's image: the Lambda runtime's Node major and
 * the function (IMAGE_DOCKERFILE declares both), plus `extra` (the recognition image's GALLERY). */
export function imageBuildArgs(
  name: FunctionName,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { NODE_MAJOR: String(LAMBDA_NODE_MAJOR), FUNCTION: name, ...extra };
}

/** Paths every image build needs: the package manifest, the sources and the bundler. */
const IMAGE_CONTEXT = [
  'package.json',
  'package-lock.json',
  '.npmrc',
  'tsconfig.json',
  'functions',
  'models',
  'infra/aws',
];

/** Docker-style patterns: exclude everything, re-include the context, drop what npm ci rebuilds.
 * functions/Dockerfile.dockerignore holds the same list for manual builds. */
export function imageContextExcludes(extraPaths: string[] = []): string[] {
  return ['**', ...[...IMAGE_CONTEXT, ...extraPaths].map((p) => `!${p}`), '**/node_modules', 'models/.cache'];
}

/** One grant: the statement id (says why, shows in the template) and which objects of the
 * bucket (an `arnForObjects` pattern: `*`, `errors/*`, a key). */
export interface ObjectGrant {
  sid: string;
  objects?: string;
}

export class PipelineFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      // Diagnostics, not data: they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Our own role instead of the default one: the default attaches the managed
    // AWSLambdaBasicExecutionRole (logs:* on every log group in the account).
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `facerec ${props.name} function`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const common = {
      functionName: props.functionName,
      description: props.description,
      architecture: ARCHITECTURE,
      memorySize: props.memorySize,
      timeout: props.timeout,
      ephemeralStorageSize: props.ephemeralStorage,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        // Stack traces point into the TypeScript sources (index.mjs.map ships in the bundle).
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
    } satisfies Partial<lambda.FunctionProps>;

    if (props.packaging === 'image') {
      this.function = new lambda.DockerImageFunction(this, 'Function', {
        ...common,
        code: lambda.DockerImageCode.fromImageAsset(props.projectRoot, {
          file: IMAGE_DOCKERFILE,
          platform: ARCHITECTURE === lambda.Architecture.X86_64 ? Platform.LINUX_AMD64 : Platform.LINUX_ARM64,
          // The base images' Node major comes from the same home as the zip runtime's.
          buildArgs: imageBuildArgs(props.name, props.imageBuildArgs),
          // The context is the repository root; send the daemon only what the build reads
          // (not node_modules, cdk.out, ...). Docker-style patterns: exclude all, re-include.
          ignoreMode: IgnoreMode.DOCKER,
          exclude: imageContextExcludes(props.imageContextPaths ?? []),
        }),
      });
    } else {
      this.function = new lambda.Function(this, 'Function', {
        ...common,
        runtime: RUNTIME,
        handler: 'index.handler',
        code: localBundle(props.bundle, props.onBundled),
      });
    }
  }

  // Grants: named actions on named resources only (no wildcard actions; cdk-nag checks the rest).

  /** s3:GetObject (which also allows HeadObject) on the bucket's objects; `versions`: also
   * s3:GetObjectVersion, to read the version an S3 event names in a versioned bucket. */
  readsFrom(bucket: s3.IBucket, grant: ObjectGrant & { versions?: boolean }): this {
    const actions = grant.versions ? ['s3:GetObject', 's3:GetObjectVersion'] : ['s3:GetObject'];
    return this.allow(grant.sid, actions, [bucket.arnForObjects(grant.objects ?? '*')]);
  }

  /** s3:PutObject on the bucket's objects. */
  writesTo(bucket: s3.IBucket, grant: ObjectGrant): this {
    return this.allow(grant.sid, ['s3:PutObject'], [bucket.arnForObjects(grant.objects ?? '*')]);
  }

  /** s3:DeleteObject on the bucket's objects. */
  deletesFrom(bucket: s3.IBucket, grant: ObjectGrant): this {
    return this.allow(grant.sid, ['s3:DeleteObject'], [bucket.arnForObjects(grant.objects ?? '*')]);
  }

  /** s3:ListBucket on the bucket: a missing object then answers 404 instead of 403. */
  listsKeysOf(bucket: s3.IBucket, grant: { sid: string }): this {
    return this.allow(grant.sid, ['s3:ListBucket'], [bucket.bucketArn]);
  }

  /** states:StartExecution on that state machine. */
  startsExecutionsOf(stateMachine: sfn.IStateMachine, grant: { sid: string }): this {
    return this.allow(grant.sid, ['states:StartExecution'], [stateMachine.stateMachineArn]);
  }

  private allow(sid: string, actions: string[], resources: string[]): this {
    this.role.addToPolicy(new iam.PolicyStatement({ sid, actions, resources }));
    return this;
  }
}

/**
 * A zip asset bundled on this machine. `tryBundle` either bundles or throws, so CDK never falls
 * back to Docker; the image named here is a placeholder that is never pulled.
 */
function localBundle(spec: BundleSpec, onBundled?: (report: BundleReport) => void): lambda.Code {
  return lambda.Code.fromAsset(path.dirname(spec.entry), {
    // Hash what is deployed, not the sources: the bundle also depends on node_modules and models.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('facerec-local-bundling-only'),
      // Not run (bundling is local); part of CDK's per-asset cache key, so each function and
      // each set of inputs gets its own bundle.
      command: ['facerec-bundle', JSON.stringify(spec)],
      local: {
        tryBundle(outputDir: string) {
          const report = bundleFunction(spec, outputDir);
          process.stderr.write(`facerec: ${spec.name} bundle ${formatMB(report.totalBytes)} unzipped\n`);
          onBundled?.(report);
          return true;
        },
      },
    },
  });
}
