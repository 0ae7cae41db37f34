/**
 * The one target resolver of the CLI (cli/lib/target.ts): which buckets, clients and state machine
 * a command talks to for `--aws`, `--endpoint` and the local stack (running, stopped, none).
 */
import { existsSync } from 'node:fs';
import { startLocalStack, type LocalStack } from '#infra/local/stack.js';
import { resolveTarget, type Target } from '#cli/lib/target.js';
import { quietLocalStackEnv } from '#test/support/stack.js';
import { tempDir } from '#test/support/videos.js';

const saved = { ...process.env };
const restoreEnv = () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
};

/** Run with these settings in process.env (what the commands read). */
async function withEnv<T>(env: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    restoreEnv();
  }
}

const noPipelineEnv = (dir: string) => ({
  ...quietLocalStackEnv(dir),
  STATE_MACHINE_ARN: undefined,
  FACEREC_BUCKET_PREFIX: undefined,
  AWS_ENDPOINT_URL_S3: undefined,
  AWS_ENDPOINT_URL_SFN: undefined,
});

describe('--aws and --endpoint', () => {
  test('exclude each other, and an endpoint must be an http(s) URL', async () => {
    await expect(
      resolveTarget({ aws: true, endpoint: 'http://127.0.0.1:1' }, { local: 'read' }),
    ).rejects.toThrow(/exclude each other/);
    await expect(resolveTarget({ endpoint: 'ftp://x' }, { local: 'read' })).rejects.toThrow(
      /not an http\(s\) URL/,
    );
  });

  test('--endpoint: the buckets of --prefix on that server; Step Functions only when asked for', async () => {
    await withEnv(noPipelineEnv(tempDir('facerec-target-')), async () => {
      const t = await resolveTarget({ endpoint: 'http://127.0.0.1:9', prefix: 'team7' }, { local: 'read' });
      try {
        expect(t.kind).toBe('endpoint');
        expect(t.buckets).toMatchObject({
          input: 'team7-input',
          stage1: 'team7-stage-1',
          output: 'team7-output',
        });
        expect(t.sfn).toBeUndefined();
        expect(t.description).toContain('http://127.0.0.1:9');
        expect(await t.s3.config.endpoint?.()).toMatchObject({ hostname: '127.0.0.1', port: 9 });
      } finally {
        await t.close();
      }
      await expect(
        resolveTarget({ endpoint: 'http://127.0.0.1:9' }, { local: 'running', stateMachine: 'required' }),
      ).rejects.toThrow(/--endpoint needs the state machine: --state-machine-arn/);
      const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:facerec-pipeline';
      const withSfn = await resolveTarget(
        { endpoint: 'http://127.0.0.1:9', stateMachineArn: arn },
        { local: 'running', stateMachine: 'required' },
      );
      try {
        expect(withSfn.stateMachineArn).toBe(arn);
        expect(withSfn.sfn).toBeDefined();
      } finally {
        await withSfn.close();
      }
    });
  });

  test('--aws: the region given, the state machine of STATE_MACHINE_ARN, never the local stack', async () => {
    const arn = 'arn:aws:states:eu-west-1:000000000000:stateMachine:facerec-pipeline';
    await withEnv({ ...noPipelineEnv(tempDir('facerec-target-')), STATE_MACHINE_ARN: arn }, async () => {
      const t = await resolveTarget(
        { aws: true, region: 'eu-west-1' },
        { local: 'start', stateMachine: 'required' },
      );
      try {
        expect(t.kind).toBe('aws');
        expect(t.local).toBeUndefined();
        expect(t.stack).toBeUndefined();
        expect(t.stateMachineArn).toBe(arn);
        expect(await t.s3.config.region()).toBe('eu-west-1');
        expect(await t.sfn.config.region()).toBe('eu-west-1');
        expect(t.buckets.input).toBe('facerec-input');
      } finally {
        await t.close();
      }
    });
  });

  test('--prefix is checked by the configuration rules', async () => {
    await expect(
      resolveTarget({ aws: true, region: 'us-east-1', prefix: 'Bad/Prefix' }, { local: 'read' }),
    ).rejects.toThrow();
  });
});

describe('the local stack', () => {
  test('none runs: `running` says how to start one; `read` of nothing says what is missing', async () => {
    await withEnv(noPipelineEnv(tempDir('facerec-target-')), async () => {
      await expect(resolveTarget({}, { local: 'running' })).rejects.toThrow(
        /no local stack runs.*facerec up/,
      );
      await expect(resolveTarget({}, { local: 'running', noStack: 'start it first' })).rejects.toThrow(
        'start it first',
      );
      await expect(resolveTarget({}, { local: 'read' })).rejects.toThrow(/no local data in/);
      await expect(resolveTarget({}, { local: 'read', stateMachine: 'required' })).rejects.toThrow(
        /no executions are journaled/,
      );
    });
  });

  describe('a running stack, then its data once stopped', () => {
    const dir = tempDir('facerec-target-stack-');
    let stack: LocalStack | undefined;
    beforeAll(async () => {
      stack = await startLocalStack({ env: quietLocalStackEnv(dir), advertise: true });
    });
    afterAll(async () => {
      await stack?.stop();
    });

    test('found through its advertisement, with its clients, buckets and state machine', async () => {
      await withEnv(noPipelineEnv(dir), async () => {
        const t = await resolveTarget({}, { local: 'running', stateMachine: 'required' });
        try {
          expect(t.kind).toBe('local');
          expect(t.local?.pid).toBe(process.pid);
          expect(t.stateMachineArn).toBe(stack!.info.stateMachineArn);
          expect(t.buckets).toEqual(stack!.info.buckets);
          expect(t.stack).toBeUndefined(); // not started by this command: close() leaves it running
        } finally {
          await t.close();
        }
        await expect(resolveTarget({ prefix: 'other' }, { local: 'read' })).rejects.toThrow(
          /serves facerec-input, not other-input/,
        );
        await expect(resolveTarget({}, { local: 'start', stack: { profile: 'cse546-p2' } })).rejects.toThrow(
          /runs with profile default/,
        );
      });
    });

    test('stopped: `read` serves the buckets it left, without Step Functions; the data stays as it was', async () => {
      await stack!.stop();
      stack = undefined;
      await withEnv(noPipelineEnv(dir), async () => {
        const t: Target = await resolveTarget({}, { local: 'read', stateMachine: 'optional' });
        try {
          expect(t.kind).toBe('local');
          expect(t.sfn).toBeUndefined();
          expect(t.description).toMatch(/stopped stack/);
          expect(t.missing).toEqual([]);
        } finally {
          await t.close();
        }
        expect(existsSync(dir)).toBe(true);
        await expect(resolveTarget({}, { local: 'running' })).rejects.toThrow(/no local stack runs/);
      });
    });
  });
});
