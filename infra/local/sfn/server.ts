/**
 * A local HTTP endpoint that speaks the part of the Step Functions API (JSON 1.0 protocol) the
 * project uses: StartExecution, DescribeExecution, ListExecutions, GetExecutionHistory, plus
 * StopExecution, DescribeStateMachine and ListStateMachines. The AWS SDK and CLI work against it
 * with `endpoint` / `AWS_ENDPOINT_URL_SFN`. Requests are not authenticated.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackAddress, isLoopbackHost } from '../s3/api/guards.js';
import { SfnApiError } from './errors.js';
import {
  arnOf,
  bodyOf,
  historyRequest,
  listRequest,
  page,
  startRequest,
  stopRequest,
  type Body,
} from './requests.js';
import type { LocalStepFunctions, ExecutionRecord } from './service.js';

const toEpoch = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

function summary(r: ExecutionRecord) {
  return {
    executionArn: r.executionArn,
    stateMachineArn: r.stateMachineArn,
    name: r.name,
    status: r.status,
    startDate: toEpoch(r.startDate),
    ...(r.stopDate ? { stopDate: toEpoch(r.stopDate) } : {}),
    ...(r.redriveCount ? { redriveCount: r.redriveCount, redriveDate: toEpoch(r.redriveDate) } : {}),
  };
}

function machineOf(sfn: LocalStepFunctions, body: Body): void {
  const arn = arnOf(body, 'stateMachineArn');
  if (arn !== sfn.stateMachineArn) {
    throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
  }
}

/** One API call: the body (any JSON) is checked for the operation (requests.ts), then run. */
function handleSfnRequest(sfn: LocalStepFunctions, operation: string, parsed: unknown): unknown {
  const body = bodyOf(parsed);
  switch (operation) {
    case 'StartExecution': {
      const out = sfn.startExecution(startRequest(body));
      return { executionArn: out.executionArn, startDate: toEpoch(out.startDate) };
    }
    case 'DescribeExecution': {
      const r = sfn.describeExecution(arnOf(body, 'executionArn'));
      return {
        ...summary(r),
        input: r.input,
        inputDetails: { included: true },
        ...(r.output !== undefined ? { output: r.output, outputDetails: { included: true } } : {}),
        ...(r.error !== undefined ? { error: r.error } : {}),
        ...(r.cause !== undefined ? { cause: r.cause } : {}),
        // Re-run after a restart of the local stack: reported as AWS reports a redrive.
        ...(r.redriveCount ? { redriveCount: r.redriveCount, redriveDate: toEpoch(r.redriveDate) } : {}),
      };
    }
    case 'ListExecutions': {
      const req = listRequest(body);
      machineOf(sfn, body);
      const all = sfn.listExecutions({ status: req.statusFilter });
      const { slice, next } = page(all, req);
      return { executions: slice.map(summary), ...(next ? { nextToken: next } : {}) };
    }
    case 'GetExecutionHistory': {
      const req = historyRequest(body);
      let events = sfn.history(req.executionArn);
      if (!req.includeExecutionData) {
        events = events.map((e) => {
          const copy: Record<string, unknown> = { ...e };
          for (const [k, v] of Object.entries(copy)) {
            if (k.endsWith('EventDetails') && v && typeof v === 'object') {
              const d = { ...(v as Record<string, unknown>) };
              delete d.input;
              delete d.output;
              copy[k] = d;
            }
          }
          return copy as typeof e;
        });
      }
      if (req.reverseOrder) events = events.reverse();
      const { slice, next } = page(events, req);
      return {
        events: slice.map((e) => ({ ...e, timestamp: e.timestamp / 1000 })),
        ...(next ? { nextToken: next } : {}),
      };
    }
    case 'StopExecution': {
      const req = stopRequest(body);
      return { stopDate: toEpoch(sfn.stopExecution(req.executionArn, req.error, req.cause)) };
    }
    case 'DescribeStateMachine':
      machineOf(sfn, body);
      return {
        stateMachineArn: sfn.stateMachineArn,
        name: sfn.stateMachineArn.split(':').at(-1),
        status: 'ACTIVE',
        definition: JSON.stringify(sfn.definition),
        roleArn: `arn:aws:iam::${sfn.account}:role/local`,
        type: 'STANDARD',
        creationDate: toEpoch(sfn.createdAt),
      };
    case 'ListStateMachines':
      return {
        stateMachines: [
          {
            stateMachineArn: sfn.stateMachineArn,
            name: sfn.stateMachineArn.split(':').at(-1),
            type: 'STANDARD',
            creationDate: toEpoch(sfn.createdAt),
          },
        ],
      };
    default:
      throw new SfnApiError(
        'UnknownOperationException',
        `operation ${operation} is not supported by the local endpoint`,
      );
  }
}

export interface SfnServer {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

/** Throws AccessDeniedException when the caller may not call the operation (infra/local/iam/sfn-auth.ts). */
export type SfnAuthorize = (
  headers: http.IncomingHttpHeaders,
  operation: string,
  body: Body,
) => Promise<void>;

export async function startSfnServer(
  sfn: LocalStepFunctions,
  host: string,
  port: number,
  authorize?: SfnAuthorize,
  onInternalError: (err: unknown) => void = (err) =>
    console.error(
      `local Step Functions endpoint: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    ),
): Promise<SfnServer> {
  const loopbackOnly = isLoopbackAddress(host);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', async () => {
      const reply = (status: number, payload: unknown, errorType?: string) => {
        const text = JSON.stringify(payload);
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': Buffer.byteLength(text),
          'x-amzn-requestid': crypto.randomUUID(),
          ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
        });
        res.end(text);
      };
      try {
        // DNS rebinding: a web page whose name resolves to 127.0.0.1 must not reach the API.
        if (loopbackOnly && !isLoopbackHost(req.headers.host)) {
          throw new SfnApiError(
            'AccessDeniedException',
            'This local Step Functions endpoint answers requests for 127.0.0.1, ::1 and localhost only.',
            403,
          );
        }
        if (req.method === 'GET') {
          reply(200, { service: 'facerec local Step Functions', stateMachineArn: sfn.stateMachineArn });
          return;
        }
        if (size > MAX_BODY) throw new SfnApiError('ValidationException', 'request too large', 413);
        const target = String(req.headers['x-amz-target'] ?? '');
        const [service, operation] = target.split('.');
        if (service !== 'AWSStepFunctions' || !operation) {
          throw new SfnApiError('UnknownOperationException', `unknown target '${target}'`);
        }
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : {};
        } catch {
          throw new SfnApiError('SerializationException', 'request body is not JSON');
        }
        await authorize?.(req.headers, operation, bodyOf(body));
        reply(200, handleSfnRequest(sfn, operation, body));
      } catch (err) {
        // A fault of this server is answered without its text (no stack, no path), and logged.
        if (!(err instanceof SfnApiError)) onInternalError(err);
        const e =
          err instanceof SfnApiError
            ? err
            : new SfnApiError(
                'InternalFailure',
                'The local Step Functions endpoint failed on this request.',
                500,
              );
        reply(e.status, { __type: `com.amazonaws.sfn#${e.type}`, message: e.message }, e.type);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
