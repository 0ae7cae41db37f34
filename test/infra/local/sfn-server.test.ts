import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { startSfnServer, type SfnServer } from '#infra/local/sfn-server.js';
import { harness, recognitionOutput, splitOutput, VIDEO, type Harness } from '#test/statemachine/harness.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
let h: Harness;
let server: SfnServer;
let client: SFNClient;
let release: () => void = () => undefined;
let gate = Promise.resolve();

beforeAll(async () => {
  h = harness({
    splitter: async (e: any) => {
      if (e.video.key === 'slow.mp4') await gate;
      return splitOutput([['f0']], e.video.key);
    },
    recognition: (e) => recognitionOutput(e),
    result: () => ({
      name: 'Penny',
      people: [],
      faces: 1,
      frames: 1,
      framesFailed: 0,
      bucket: 'o',
      outputKey: 'k',
    }),
  });
  server = await startSfnServer(h.sfn, '127.0.0.1', 0);
  client = new SFNClient({
    region: 'us-east-1',
    endpoint: server.url,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
});
afterAll(async () => {
  release();
  await h.sfn.close(2000);
  await server.close();
  client.destroy();
});

async function waitDone(executionArn: string) {
  for (let i = 0; i < 200; i++) {
    const d = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') return d;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('execution did not finish');
}

describe('local Step Functions endpoint, through the AWS SDK', () => {
  test('StartExecution / DescribeExecution', async () => {
    const input = JSON.stringify(VIDEO);
    const start = await client.send(
      new StartExecutionCommand({ stateMachineArn: h.sfn.stateMachineArn, name: 'video-1', input }),
    );
    expect(start.executionArn).toBe(
      `arn:aws:states:us-east-1:000000000000:execution:facerec-pipeline:video-1`,
    );
    expect(start.startDate).toBeInstanceOf(Date);
    const d = await waitDone(start.executionArn!);
    expect(d).toMatchObject({
      status: 'SUCCEEDED',
      name: 'video-1',
      input,
      stateMachineArn: h.sfn.stateMachineArn,
    });
    expect(JSON.parse(d.output!)).toMatchObject({ name: 'Penny' });
    expect(d.stopDate!.getTime()).toBeGreaterThanOrEqual(d.startDate!.getTime());
  });

  test('a duplicate name: idempotent while running with the same input, refused otherwise', async () => {
    gate = new Promise((r) => (release = r));
    const input = JSON.stringify({ ...VIDEO, key: 'slow.mp4' });
    const a = await client.send(
      new StartExecutionCommand({ stateMachineArn: h.sfn.stateMachineArn, name: 'dup', input }),
    );
    const b = await client.send(
      new StartExecutionCommand({ stateMachineArn: h.sfn.stateMachineArn, name: 'dup', input }),
    );
    expect(b.executionArn).toBe(a.executionArn);
    await expect(
      client.send(
        new StartExecutionCommand({
          stateMachineArn: h.sfn.stateMachineArn,
          name: 'dup',
          input: '{"other":1}',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    release();
    await waitDone(a.executionArn!);
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn: h.sfn.stateMachineArn, name: 'dup', input })),
    ).rejects.toMatchObject({ name: 'ExecutionAlreadyExists', $metadata: { httpStatusCode: 400 } });
  });

  test('ListExecutions (newest first, paginated) and GetExecutionHistory', async () => {
    for (let i = 0; i < 3; i++) {
      await client.send(
        new StartExecutionCommand({
          stateMachineArn: h.sfn.stateMachineArn,
          name: `list-${i}`,
          input: JSON.stringify(VIDEO),
        }),
      );
    }
    const first = await client.send(
      new ListExecutionsCommand({ stateMachineArn: h.sfn.stateMachineArn, maxResults: 2 }),
    );
    expect(first.executions).toHaveLength(2);
    expect(first.nextToken).toBeDefined();
    const rest = await client.send(
      new ListExecutionsCommand({
        stateMachineArn: h.sfn.stateMachineArn,
        maxResults: 100,
        nextToken: first.nextToken,
      }),
    );
    const all = [...first.executions!, ...rest.executions!];
    expect(all.map((e) => e.name)).toEqual(
      expect.arrayContaining(['list-0', 'list-1', 'list-2', 'video-1', 'dup']),
    );
    const starts = all.map((e) => e.startDate!.getTime());
    expect([...starts].sort((a, b) => b - a)).toEqual(starts);

    const arn = all.find((e) => e.name === 'list-2')!.executionArn!;
    await waitDone(arn);
    const succeeded = await client.send(
      new ListExecutionsCommand({ stateMachineArn: h.sfn.stateMachineArn, statusFilter: 'SUCCEEDED' }),
    );
    expect(succeeded.executions!.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    const hist = await client.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    const types = hist.events!.map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types).toEqual(
      expect.arrayContaining([
        'TaskStateEntered',
        'MapStateEntered',
        'MapIterationStarted',
        'LambdaFunctionScheduled',
      ]),
    );
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    expect(hist.events![1].stateEnteredEventDetails?.name).toBe('Split video into frames');
    expect(hist.events![0].timestamp).toBeInstanceOf(Date);
    const reversed = await client.send(
      new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 1 }),
    );
    expect(reversed.events![0].type).toBe('ExecutionSucceeded');
  });

  test('errors as the API reports them', async () => {
    await expect(
      client.send(new DescribeExecutionCommand({ executionArn: `${h.sfn.executionArn('nope')}` })),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    await expect(
      client.send(
        new StartExecutionCommand({
          stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:other',
        }),
      ),
    ).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn: h.sfn.stateMachineArn, name: 'bad name!' })),
    ).rejects.toMatchObject({ name: 'InvalidName' });
    const sm = await client.send(new DescribeStateMachineCommand({ stateMachineArn: h.sfn.stateMachineArn }));
    expect(JSON.parse(sm.definition!).StartAt).toBe('Split video into frames');
  });
});
