/**
 * The settings a deployment changes with `-c key=value`: the default (account/region) prefix,
 * server access logs, `removalPolicy=destroy`, a gallery in S3, a CSE546 profile, pipeline
 * tuning; and container images instead of zips. cdk-nag stays clean in every variant.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LAMBDA_NODE_MAJOR } from '#infra/aws/bundling/lambda-runtime.js';
import { FUNCTION_NAMES } from '#functions/core/facts.js';
import { IMAGE_DOCKERFILE, imageBuildArgs, imageContextExcludes } from '#infra/aws/pipeline-function.js';
import {
  fixtureGallery,
  logicalId,
  projectRoot,
  resources,
  statementsOfRole,
  synthesize,
  type Synthesized,
} from './support.js';

describe('-c accessLogs=true -c removalPolicy=destroy -c gallery=s3://... -c profile=cse546-p2 (default prefix)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({
      prefix: undefined, // cdk.json's default: facerec-${AWS::AccountId}-${AWS::Region}
      accessLogs: 'true',
      removalPolicy: 'destroy',
      gallery: 's3://team-galleries/cse546/gallery.json',
      profile: 'cse546-p2',
      stage1ExpirationDays: '21',
      frameBatch: '8',
      logLevel: 'DEBUG',
    });
  });
  afterAll(() => s?.cleanup());
  const id = (c: { node: { defaultChild?: unknown } }) => logicalId(s.stack, c);
  const env = (name: 'starter' | 'splitter' | 'recognition' | 'result') =>
    (
      resources(s.template)[id(s.stack.functions[name].function)].Properties!.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;

  test('bucket names derive from the account and region when no prefix is given', () => {
    const prefix = { 'Fn::Sub': 'facerec-${AWS::AccountId}-${AWS::Region}' };
    for (const [bucket, suffix] of [
      ['input', '-input'],
      ['stage1', '-stage-1'],
      ['output', '-output'],
    ] as const) {
      expect(resources(s.template)[id(s.stack.buckets[bucket])].Properties!.BucketName).toEqual({
        'Fn::Join': ['', [prefix, suffix]],
      });
    }
    expect(env('starter').FACEREC_BUCKET_PREFIX).toEqual(prefix);
  });

  test('server access logs of the three buckets go to <prefix>-access-logs, which is locked down too', () => {
    const logs = Object.entries(resources(s.template, 'AWS::S3::Bucket')).find(([, r]) =>
      JSON.stringify(r.Properties!.BucketName).includes('-access-logs'),
    );
    expect(logs).toBeDefined();
    const [logsId, logsBucket] = logs!;
    expect(logsBucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    for (const [bucket, prefix] of [
      ['input', 'input/'],
      ['stage1', 'stage-1/'],
      ['output', 'output/'],
    ] as const) {
      expect(resources(s.template)[id(s.stack.buckets[bucket])].Properties!.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: logsId },
        LogFilePrefix: prefix,
      });
    }
  });

  test('removalPolicy=destroy: all four buckets are emptied and deleted with the stack', () => {
    const all = resources(s.template) as Record<string, { DeletionPolicy?: string }>;
    for (const b of ['input', 'stage1', 'output', 'meta'] as const) {
      expect(all[id(s.stack.buckets[b])].DeletionPolicy).toBe('Delete');
    }
    s.template.resourceCountIs('Custom::S3AutoDeleteObjects', 4);
  });

  test('stage-1 expiration follows stage1ExpirationDays', () => {
    const rules = (
      resources(s.template)[id(s.stack.buckets.stage1)].Properties!.LifecycleConfiguration as {
        Rules: Array<{ ExpirationInDays?: number }>;
      }
    ).Rules;
    expect(rules.map((r) => r.ExpirationInDays)).toEqual([21]);
  });

  test('an S3 gallery: the recognition function reads that one object, and the bundle carries no gallery', () => {
    expect(env('recognition').FACEREC_GALLERY).toBe('s3://team-galleries/cse546/gallery.json');
    const statements = statementsOfRole(s.template, id(s.stack.functions.recognition.role));
    // A course profile deploys to us-east-1 (the stack's region fixed, as infra/bin/facerec.ts does): the
    // partition is written out.
    expect(statements).toContainEqual({
      effect: 'Allow',
      actions: ['s3:GetObject'],
      resources: ['arn:aws:s3:::team-galleries/cse546/gallery.json'],
    });
    const code = resources(s.template)[id(s.stack.functions.recognition.function)].Properties!.Code as {
      S3Key: string;
    };
    const dir = path.join(s.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
    expect(existsSync(path.join(dir, 'models', 'manifest.json'))).toBe(true);
    expect(existsSync(path.join(dir, 'gallery.json'))).toBe(false);
  });

  test('profile, log level and tuning reach every function', () => {
    for (const name of ['starter', 'splitter', 'recognition', 'result'] as const) {
      expect(env(name)).toMatchObject({
        FACEREC_PROFILE: 'cse546-p2',
        FACEREC_FRAME_BATCH: '8',
        FACEREC_LOG_LEVEL: 'DEBUG',
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
      });
    }
  });

  test('cdk-nag: no unacknowledged findings', () => {
    expect(s.nagViolations).toEqual([]);
  });
});

describe('-c packaging=image', () => {
  let s: Synthesized;
  beforeAll(() => {
    // An embedded gallery file: still possible (-c gallery=<file>), fixed until redeployed.
    s = synthesize({ packaging: 'image', prefix: 'img-test', gallery: fixtureGallery });
  });
  afterAll(() => s?.cleanup());
  const id = (c: { node: { defaultChild?: unknown } }) => logicalId(s.stack, c);

  test('four container-image functions (x86_64), built from the one functions/Dockerfile for linux/amd64 (FUNCTION names each), no zip bundling', () => {
    expect(s.bundles.size).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(s.outdir, 'FaceRec.assets.json'), 'utf8')) as {
      dockerImages: Record<
        string,
        {
          source: {
            directory: string;
            dockerFile: string;
            platform: string;
            dockerBuildArgs?: Record<string, string>;
          };
        }
      >;
    };
    const images = Object.values(manifest.dockerImages).map((d) => d.source);
    expect(images.map((i) => i.dockerFile)).toEqual(Array(4).fill('functions/Dockerfile'));
    expect(images.map((i) => i.dockerBuildArgs?.FUNCTION).sort()).toEqual([
      'recognition',
      'result',
      'splitter',
      'starter',
    ]);
    for (const i of images) expect(i.platform).toBe('linux/amd64');
    expect(images.find((i) => i.dockerBuildArgs?.FUNCTION === 'recognition')!.dockerBuildArgs).toEqual({
      NODE_MAJOR: String(LAMBDA_NODE_MAJOR),
      FUNCTION: 'recognition',
      GALLERY: 'test/infra/aws/fixtures/gallery.json',
    });
    for (const i of images) {
      expect(i.dockerBuildArgs).toEqual(
        i.dockerBuildArgs?.FUNCTION === 'recognition'
          ? expect.objectContaining({ NODE_MAJOR: String(LAMBDA_NODE_MAJOR) })
          : { NODE_MAJOR: String(LAMBDA_NODE_MAJOR), FUNCTION: i.dockerBuildArgs?.FUNCTION },
      );
    }
    // Each image's function is the one it is deployed as.
    for (const name of ['starter', 'splitter', 'recognition', 'result'] as const) {
      const code = resources(s.template)[id(s.stack.functions[name].function)].Properties!.Code as {
        ImageUri: unknown;
      };
      const hash = Object.entries(manifest.dockerImages).find(
        ([, d]) => d.source.dockerBuildArgs?.FUNCTION === name,
      )![0];
      expect(JSON.stringify(code.ImageUri)).toContain(hash);
    }
    for (const name of ['starter', 'splitter', 'recognition', 'result'] as const) {
      const props = resources(s.template)[id(s.stack.functions[name].function)].Properties!;
      expect(props).toMatchObject({
        PackageType: 'Image',
        Architectures: ['x86_64'],
        TracingConfig: { Mode: 'Active' },
      });
      expect(props.Runtime).toBeUndefined();
    }
  });

  test('the build context holds what the Dockerfiles read, and not node_modules', () => {
    const manifest = JSON.parse(readFileSync(path.join(s.outdir, 'FaceRec.assets.json'), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile: string } }>;
    };
    const recognition = Object.values(manifest.dockerImages).find(
      (d) =>
        (d.source as { dockerBuildArgs?: Record<string, string> }).dockerBuildArgs?.FUNCTION ===
        'recognition',
    )!;
    const ctx = path.join(s.outdir, recognition.source.directory);
    for (const p of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'functions/recognition/handler.ts',
      'functions/Dockerfile',
      'infra/aws/bundling/cli.ts',
      'models/generated/manifest.json',
      'test/infra/aws/fixtures/gallery.json',
    ]) {
      expect({ p, exists: existsSync(path.join(ctx, p)) }).toEqual({ p, exists: true });
    }
    expect(existsSync(path.join(ctx, 'node_modules'))).toBe(false);
    expect(existsSync(path.join(ctx, 'cdk.out'))).toBe(false);
  });

  test("the Dockerfile bundles the function FUNCTION names with the same code as the zip and runs index.handler on the Lambda runtime's Node image", () => {
    const text = readFileSync(path.join(projectRoot, IMAGE_DOCKERFILE), 'utf8');
    expect(text).toContain('infra/aws/bundling/cli.ts "$FUNCTION" /asset');
    // The major comes from lambda-runtime.ts (CDK passes NODE_MAJOR); the default matches it.
    expect(text).toContain(`ARG NODE_MAJOR=${LAMBDA_NODE_MAJOR}`);
    expect(text).toContain('FROM public.ecr.aws/lambda/nodejs:${NODE_MAJOR}');
    expect(text).toContain('CMD ["index.handler"]');
    expect(text).toContain('npm ci --ignore-scripts');
    // The function is chosen after the install: the four builds share the install's layers.
    expect(text.indexOf('ARG FUNCTION')).toBeGreaterThan(text.indexOf('npm ci'));
    // A manual `docker build -f functions/Dockerfile .` sends the same context.
    const ignore = readFileSync(path.join(projectRoot, `${IMAGE_DOCKERFILE}.dockerignore`), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(ignore).toEqual(imageContextExcludes());
    // One Dockerfile: none left per function.
    for (const name of FUNCTION_NAMES) {
      expect(existsSync(path.join(projectRoot, 'functions', name, 'Dockerfile'))).toBe(false);
    }
  });

  test("the build arguments the stack passes are the Dockerfile's, and every one without a default is passed", () => {
    const manifest = JSON.parse(readFileSync(path.join(s.outdir, 'FaceRec.assets.json'), 'utf8')) as {
      dockerImages: Record<string, { source: { dockerBuildArgs?: Record<string, string> } }>;
    };
    const declared = dockerfileArgs(readFileSync(path.join(projectRoot, IMAGE_DOCKERFILE), 'utf8'));
    expect([...declared.keys()].sort()).toEqual(['FUNCTION', 'GALLERY', 'NODE_MAJOR']);
    const required = [...declared].filter(([, hasDefault]) => !hasDefault).map(([name]) => name);
    expect(required).toEqual(['FUNCTION']);
    for (const d of Object.values(manifest.dockerImages)) {
      const passed = Object.keys(d.source.dockerBuildArgs ?? {});
      for (const arg of passed) expect({ arg, declared: declared.has(arg) }).toEqual({ arg, declared: true });
      for (const arg of required) expect(passed).toContain(arg);
    }
    // And what the construct passes for each function, with or without a gallery.
    for (const name of FUNCTION_NAMES) {
      for (const arg of Object.keys(imageBuildArgs(name, { GALLERY: 'g.json' }))) {
        expect({ arg, declared: declared.has(arg) }).toEqual({ arg, declared: true });
      }
    }
  });

  test('cdk-nag: no unacknowledged findings', () => {
    expect(s.nagViolations).toEqual([]);
  });
});

describe('-c packaging=image -c gallery=s3://...', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ packaging: 'image', prefix: 'img-s3-test', gallery: 's3://team-galleries/g.json' });
  });
  afterAll(() => s?.cleanup());

  test('the recognition image is built without a gallery (the function reads it from S3)', () => {
    const manifest = JSON.parse(readFileSync(path.join(s.outdir, 'FaceRec.assets.json'), 'utf8')) as {
      dockerImages: Record<
        string,
        { source: { dockerFile: string; dockerBuildArgs?: Record<string, string> } }
      >;
    };
    const recognition = Object.values(manifest.dockerImages).find(
      (d) => d.source.dockerBuildArgs?.FUNCTION === 'recognition',
    )!;
    expect(recognition.source.dockerBuildArgs).toEqual({
      NODE_MAJOR: String(LAMBDA_NODE_MAJOR),
      FUNCTION: 'recognition',
    });
    const dockerfile = readFileSync(path.join(projectRoot, IMAGE_DOCKERFILE), 'utf8');
    expect(dockerfile).toContain('ARG GALLERY=\n');
    expect(dockerfile).toContain('${GALLERY:+--gallery "$GALLERY"}');
    const env = (
      resources(s.template)[logicalId(s.stack, s.stack.functions.recognition.function)].Properties!
        .Environment as {
        Variables: Record<string, string>;
      }
    ).Variables;
    expect(env.FACEREC_GALLERY).toBe('s3://team-galleries/g.json');
  });
});

/** A Dockerfile's build arguments (`ARG NAME` or `ARG NAME=default`): name -> has a default. */
function dockerfileArgs(text: string): Map<string, boolean> {
  const args = new Map<string, boolean>();
  for (const m of text.matchAll(/^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(=?)/gm)) args.set(m[1], m[2] === '=');
  return args;
}
