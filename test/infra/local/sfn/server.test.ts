import http from 'node:http';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { startSfnServer, type SfnServer } from '#infra/local/sfn/server.js';
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
      if (e.video.key === 'crash.mp4') throw new TypeError('boom at /work/secret/project/functions/x.ts');
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

/** The execution's description through the endpoint once the service says it finished. */
async function waitDone(executionArn: string) {
  await new Promise<void>((resolve) => {
    const check = () => {
      if (h.sfn.describeExecution(executionArn).status === 'RUNNING') return;
      h.sfn.off('finished', check);
      resolve();
    };
    h.sfn.on('finished', check);
    check();
  });
  return client.send(new DescribeExecutionCommand({ executionArn }));
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

/** A raw request to the endpoint, as any local program (or a web page) could send it. */
async function raw(operation: string, body: string, headers: Record<string, string> = {}) {
  // node:http, not fetch: fetch does not let a caller set the Host header.
  const url = new URL(server.url);
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        // A new connection each time: a kept-alive one may be closed by the server's idle timeout
        // just as a request reuses it (ECONNRESET under load).
        agent: false,
        port: url.port,
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `AWSStepFunctions.${operation}`,
          ...headers,
        },
      },
      (res) => {
        let t = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (t += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  return { status, text, json: JSON.parse(text) as { __type?: string; message?: string } };
}

describe('what the endpoint refuses, as Step Functions does (issue 21, finding 8)', () => {
  const type = (r: { json: { __type?: string } }) => r.json.__type?.split('#')[1];

  test('a request for another host name (DNS rebinding) is refused', async () => {
    const { port } = new URL(server.url);
    const r = await raw('ListExecutions', JSON.stringify({ stateMachineArn: h.sfn.stateMachineArn }), {
      host: `attacker.example:${port}`,
    });
    expect([r.status, type(r)]).toEqual([403, 'AccessDeniedException']);
    const ok = await raw('ListExecutions', JSON.stringify({ stateMachineArn: h.sfn.stateMachineArn }), {
      host: `localhost:${port}`,
    });
    expect(ok.status).toBe(200);
  });

  test('wrong types and bodies: 400 with the API error, never 500 or JavaScript text', async () => {
    const arn = h.sfn.stateMachineArn;
    const cases: Array<[string, string]> = [
      ['StartExecution', JSON.stringify({ stateMachineArn: arn, input: 5 })],
      ['StartExecution', JSON.stringify({ stateMachineArn: arn, name: 12345 })],
      ['StartExecution', 'null'],
      ['StartExecution', '[1,2]'],
      ['StartExecution', '"text"'],
      ['StartExecution', JSON.stringify({ stateMachineArn: { a: 1 } })],
      ['DescribeExecution', JSON.stringify({ executionArn: ['x'] })],
      ['DescribeExecution', 'null'],
      ['GetExecutionHistory', JSON.stringify({ executionArn: { $ne: 1 } })],
      ['StopExecution', JSON.stringify({ executionArn: h.sfn.executionArn('x'), cause: 7 })],
      ['ListExecutions', JSON.stringify({ stateMachineArn: arn, maxResults: 'ten' })],
    ];
    for (const [op, body] of cases) {
      const r = await raw(op, body);
      expect([op, body, r.status, type(r)]).toEqual([op, body, 400, 'SerializationException']);
      expect(r.text).not.toMatch(/TypeError|Cannot read|undefined|at \w+ \(/);
    }
    // Nothing was started by any of them (a numeric name would have been accepted as a number).
    const listed = await client.send(new ListExecutionsCommand({ stateMachineArn: arn }));
    expect(listed.executions!.map((e) => e.name)).not.toContain(12345);
  });

  test('limits: maxResults 0..1000, statusFilter of the enum, paging tokens of this listing only', async () => {
    const arn = h.sfn.stateMachineArn;
    for (const maxResults of [-1, 1001, 2.5]) {
      const r = await raw('ListExecutions', JSON.stringify({ stateMachineArn: arn, maxResults }));
      expect(r.status).toBe(400);
      expect(['ValidationException', 'SerializationException']).toContain(type(r));
    }
    const bad = await raw('ListExecutions', JSON.stringify({ stateMachineArn: arn, statusFilter: 'DONE' }));
    expect([bad.status, type(bad)]).toEqual([400, 'ValidationException']);
    for (const nextToken of [
      'garbage',
      '!!!',
      '',
      'AA',
      Buffer.from('{"v":1,"s":"list:","o":-5}').toString('base64url'),
    ]) {
      const r = await raw('ListExecutions', JSON.stringify({ stateMachineArn: arn, nextToken }));
      expect([nextToken, r.status, type(r)]).toEqual([nextToken, 400, 'InvalidToken']);
    }
    // A token of one execution's history is not one of another's.
    const done = await h.run(VIDEO, 'tokens-a');
    const other = await h.run(VIDEO, 'tokens-b');
    const first = await client.send(
      new GetExecutionHistoryCommand({ executionArn: done.executionArn, maxResults: 2 }),
    );
    expect(first.nextToken).toBeDefined();
    await expect(
      client.send(
        new GetExecutionHistoryCommand({ executionArn: other.executionArn, nextToken: first.nextToken }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidToken' });
    const second = await client.send(
      new GetExecutionHistoryCommand({
        executionArn: done.executionArn,
        maxResults: 2,
        nextToken: first.nextToken,
      }),
    );
    expect(second.events![0].id).toBe(3);
  });

  test('causes carry the error type and message, no stack trace and no path of the machine', async () => {
    const r = await h.run({ ...VIDEO, key: 'crash.mp4' }, 'crash-cause');
    const d = await client.send(new DescribeExecutionCommand({ executionArn: r.executionArn }));
    const hist = await client.send(new GetExecutionHistoryCommand({ executionArn: r.executionArn }));
    const causes = [
      d.cause,
      ...hist.events!.map(
        (e) => e.lambdaFunctionFailedEventDetails?.cause ?? e.executionFailedEventDetails?.cause,
      ),
    ].filter((c): c is string => !!c);
    expect(causes.length).toBeGreaterThan(0);
    for (const c of causes) {
      expect(c).not.toMatch(/"trace"|\n\s+at |\/work\/|\/home\//);
    }
    expect(causes.some((c) => /boom at x\.ts/.test(c))).toBe(true);
  });
});
