/**
 * A local HTTP endpoint that speaks the part of the Step Functions API (JSON 1.0 protocol) the
 * project uses: StartExecution, DescribeExecution, ListExecutions, GetExecutionHistory, plus
 * StopExecution, DescribeStateMachine and ListStateMachines. The AWS SDK and CLI work against it
 * with `endpoint` / `AWS_ENDPOINT_URL_SFN`. Requests are not authenticated.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  LocalStepFunctions,
  SfnApiError,
  type ExecutionRecord,
  type ExecutionStatus,
} from './stepfunctions.js';

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

function page<T>(items: T[], maxResults: number | undefined, nextToken: string | undefined, max = 1000) {
  const start = nextToken ? Number(Buffer.from(nextToken, 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw new SfnApiError('InvalidToken', 'Invalid Token');
  const size = Math.min(max, maxResults && maxResults > 0 ? maxResults : max);
  const slice = items.slice(start, start + size);
  const next =
    start + size < items.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
  return { slice, next };
}

type Body = Record<string, unknown>;

export function handleSfnRequest(sfn: LocalStepFunctions, operation: string, body: Body): unknown {
  switch (operation) {
    case 'StartExecution': {
      const out = sfn.startExecution({
        stateMachineArn: body.stateMachineArn as string,
        name: body.name as string | undefined,
        input: body.input as string | undefined,
      });
      return { executionArn: out.executionArn, startDate: toEpoch(out.startDate) };
    }
    case 'DescribeExecution': {
      const r = sfn.describeExecution(body.executionArn as string);
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
      if (body.stateMachineArn !== sfn.stateMachineArn) {
        throw new SfnApiError(
          'StateMachineDoesNotExist',
          `State Machine Does Not Exist: '${String(body.stateMachineArn)}'`,
        );
      }
      const all = sfn.listExecutions({ status: body.statusFilter as ExecutionStatus | undefined });
      const { slice, next } = page(all, body.maxResults as number, body.nextToken as string);
      return { executions: slice.map(summary), ...(next ? { nextToken: next } : {}) };
    }
    case 'GetExecutionHistory': {
      let events = sfn.history(body.executionArn as string);
      if (body.includeExecutionData === false) {
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
      if (body.reverseOrder) events = events.reverse();
      const { slice, next } = page(events, body.maxResults as number, body.nextToken as string);
      return {
        events: slice.map((e) => ({ ...e, timestamp: e.timestamp / 1000 })),
        ...(next ? { nextToken: next } : {}),
      };
    }
    case 'StopExecution':
      return {
        stopDate: toEpoch(
          sfn.stopExecution(body.executionArn as string, body.error as string, body.cause as string),
        ),
      };
    case 'DescribeStateMachine':
      if (body.stateMachineArn !== sfn.stateMachineArn) {
        throw new SfnApiError(
          'StateMachineDoesNotExist',
          `State Machine Does Not Exist: '${String(body.stateMachineArn)}'`,
        );
      }
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
): Promise<SfnServer> {
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
        const body = (text ? JSON.parse(text) : {}) as Body;
        await authorize?.(req.headers, operation, body);
        reply(200, handleSfnRequest(sfn, operation, body));
      } catch (err) {
        const e =
          err instanceof SfnApiError
            ? err
            : err instanceof SyntaxError
              ? new SfnApiError('SerializationException', 'request body is not JSON')
              : new SfnApiError('InternalFailure', (err as Error).message, 500);
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
