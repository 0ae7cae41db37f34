/**
 * The local stack's start and stop around the pipeline (infra/local/stack.ts): a start that fails
 * part-way closes what it opened, and a stopped stack's executions are served read-only by the
 * same state machine. Stand-in handlers: the functions themselves are tested elsewhere.
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { FUNCTION_SIZING } from '#infra/aws/facerec-stack.js';
import { serveExecutionHistory, startLocalStack } from '#infra/local/stack.js';
import { quietLocalStackEnv } from '#test/support/stack.js';
import { tempDir } from '#test/support/videos.js';

/** A port nothing listens on now (the OS picks it). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts connections on the port (a closed server refuses them). */
function listensOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('a start that fails after its servers are up (a missing gallery file) says why and leaves nothing listening', async () => {
  const dir = tempDir('facerec-stack-');
  // Its own ports, so that the check sees this stack's servers and no other test's.
  const [s3Port, sfnPort] = [await freePort(), await freePort()];
  await expect(
    startLocalStack({
      env: {
        ...quietLocalStackEnv(path.join(dir, 'local')),
        FACEREC_LOCAL_S3_PORT: String(s3Port),
        FACEREC_LOCAL_SFN_PORT: String(sfnPort),
        FACEREC_GALLERY: path.join(dir, 'missing.json'),
      },
      recover: false,
    }),
  ).rejects.toThrow(/cannot push the gallery .*missing\.json to the local S3/);
  expect(await listensOn(s3Port)).toBe(false);
  expect(await listensOn(sfnPort)).toBe(false);
}, 60_000);

test("a stopped stack's executions are served read-only by the same state machine", async () => {
  const env = quietLocalStackEnv(path.join(tempDir('facerec-stack-'), 'local'));
  const refuse = () => Promise.reject(new Error('stand-in: refused'));
  const stack = await startLocalStack({
    env,
    recover: false,
    handlers: { starter: refuse, splitter: refuse, recognition: refuse, result: refuse },
  });
  let arn: string;
  try {
    arn = stack.sfn.startExecution({
      stateMachineArn: stack.sfn.stateMachineArn,
      name: 'one',
      input: '{}',
    }).executionArn;
    await stack.idle(20);
  } finally {
    await stack.stop();
  }
  const ran = stack.sfn.describeExecution(arn);

  const history = await serveExecutionHistory(env);
  expect(history).toBeDefined();
  const client = new SFNClient({
    region: history!.info.region,
    endpoint: history!.info.sfnEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    expect(history!.info.stateMachineArn).toBe(stack.info.stateMachineArn);
    const listed = await client.send(
      new ListExecutionsCommand({ stateMachineArn: history!.info.stateMachineArn }),
    );
    expect(listed.executions?.map((e) => [e.executionArn, e.status])).toEqual([[arn, ran.status]]);
    expect(ran.status).not.toBe('RUNNING');
  } finally {
    client.destroy();
    await history!.close();
  }
}, 60_000);

test("each local function has its Lambda's memory and timeout, as the CDK app sets them (AWS_LAMBDA_FUNCTION_MEMORY_SIZE: ffmpeg's cap comes from it)", async () => {
  const refuse = () => Promise.reject(new Error('stand-in: refused'));
  const stack = await startLocalStack({
    env: { ...quietLocalStackEnv(path.join(tempDir('facerec-stack-'), 'local')), FACEREC_LOCAL_IAM: 'false' },
    recover: false,
    handlers: { starter: refuse, splitter: refuse, recognition: refuse, result: refuse },
  });
  try {
    for (const [name, fn] of Object.entries(stack.functions)) {
      const sizing = FUNCTION_SIZING[name as keyof typeof FUNCTION_SIZING];
      expect({ name, memoryMb: fn.spec.memoryMb, timeoutSeconds: fn.spec.timeoutSeconds }).toEqual({
        name,
        memoryMb: sizing.memorySize,
        timeoutSeconds: sizing.timeout.toSeconds(),
      });
    }
  } finally {
    await stack.stop();
  }
}, 120_000);

test("the local functions' execution environments share the cores: one onnxruntime thread and one ffmpeg decoding thread each when there are as many environments as cores, and a thread count the user set is kept", async () => {
  const refuse = () => Promise.reject(new Error('stand-in: refused'));
  const cores = os.availableParallelism();
  const envOf = async (extra: Record<string, string>) => {
    const stack = await startLocalStack({
      env: {
        ...quietLocalStackEnv(path.join(tempDir('facerec-stack-'), 'local')),
        FACEREC_LOCAL_IAM: 'false',
        ...extra,
      },
      recover: false,
      handlers: { starter: refuse, splitter: refuse, recognition: refuse, result: refuse },
    });
    await stack.stop();
    return stack.env;
  };
  const threads = (env: Record<string, string | undefined>) => [
    env.FACEREC_ONNX_THREADS,
    env.FACEREC_FFMPEG_THREADS,
  ];
  expect(threads(await envOf({ FACEREC_LOCAL_CONCURRENCY: String(cores) }))).toEqual(['1', '1']);
  expect(threads(await envOf({ FACEREC_LOCAL_CONCURRENCY: '1' }))).toEqual([String(cores), String(cores)]);
  expect(
    threads(
      await envOf({
        FACEREC_LOCAL_CONCURRENCY: String(cores),
        FACEREC_ONNX_THREADS: '3',
        FACEREC_FFMPEG_THREADS: '2',
      }),
    ),
  ).toEqual(['3', '2']);
}, 120_000);
