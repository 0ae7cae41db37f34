/**
 * The local stack's start and stop around the pipeline (infra/local/stack.ts): a start that fails
 * part-way closes what it opened, and a stopped stack's executions are served read-only by the
 * same state machine. Stand-in handlers: the functions themselves are tested elsewhere.
 */
import path from 'node:path';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { serveExecutionHistory, startLocalStack } from '#infra/local/stack.js';
import { quietLocalStackEnv } from '#test/support/stack.js';
import { tempDir } from '#test/support/videos.js';

const listeningServers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

/** Closed servers leave the list once the event loop has closed their handles. */
async function settledServerCount(expected: number, withinMs = 2000): Promise<number> {
  const end = Date.now() + withinMs;
  while (listeningServers() !== expected && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return listeningServers();
}

test('a start that fails after its servers are up (a missing gallery file) says why and leaves nothing listening', async () => {
  const dir = tempDir('facerec-stack-');
  const before = listeningServers();
  await expect(
    startLocalStack({
      env: {
        ...quietLocalStackEnv(path.join(dir, 'local')),
        FACEREC_GALLERY: path.join(dir, 'missing.json'),
      },
      recover: false,
    }),
  ).rejects.toThrow(/cannot push the gallery .*missing\.json to the local S3/);
  expect(await settledServerCount(before)).toBe(before);
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
