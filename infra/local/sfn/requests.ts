/**
 * What the local Step Functions endpoint accepts, checked before anything runs, as the service
 * checks it: the body is a JSON object; each member the operation reads has its type (a number
 * where a string belongs is a SerializationException, as in the AWS JSON protocol); values within
 * their limits (ValidationException); paging tokens that this endpoint issued, for this listing
 * (InvalidToken). Pure: the server hands the parsed body in, typed requests come out.
 */
import { SfnApiError } from './errors.js';

export type Body = Record<string, unknown>;

const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;
type StatusFilter = (typeof EXECUTION_STATUSES)[number];

/** The API's page size limit (ListExecutions, GetExecutionHistory). */
const MAX_RESULTS = 1000;

/** Step Functions' limits on ARNs, StopExecution's error and cause, tokens. */
const MAX_ARN = 2048;
const MAX_ERROR = 256;
const MAX_CAUSE = 32_768;
const MAX_TOKEN = 3096;

const serialization = (member: string, want: string) =>
  new SfnApiError('SerializationException', `${member}: expected ${want}`);
const validation = (message: string) => new SfnApiError('ValidationException', message);

/** The request body: a JSON object (not null, an array, a number or a string). */
export function bodyOf(parsed: unknown): Body {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SfnApiError('SerializationException', 'the request body must be a JSON object');
  }
  return parsed as Body;
}

function str(body: Body, member: string, max: number, required = false): string | undefined {
  const v = body[member];
  if (v === undefined || v === null) {
    if (required)
      throw validation(
        `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
      );
    return undefined;
  }
  if (typeof v !== 'string') throw serialization(member, 'a string');
  if (v.length > max) {
    throw validation(
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
  return v;
}

function bool(body: Body, member: string): boolean | undefined {
  const v = body[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw serialization(member, 'a boolean');
  return v;
}

function maxResultsOf(body: Body): number {
  const v = body.maxResults;
  if (v === undefined || v === null) return MAX_RESULTS;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw serialization('maxResults', 'an integer');
  if (v < 0 || v > MAX_RESULTS) {
    throw validation(
      `1 validation error detected: Value '${v}' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and ${MAX_RESULTS}`,
    );
  }
  return v === 0 ? MAX_RESULTS : v;
}

export const arnOf = (body: Body, member: string) => str(body, member, MAX_ARN, true)!;

export interface StartRequest {
  stateMachineArn: string;
  name?: string;
  input?: string;
}

export function startRequest(body: Body): StartRequest {
  return {
    stateMachineArn: arnOf(body, 'stateMachineArn'),
    // The name's pattern and length are the service's check (InvalidName), after the types.
    name: str(body, 'name', Number.MAX_SAFE_INTEGER),
    input: str(body, 'input', Number.MAX_SAFE_INTEGER),
  };
}

export function stopRequest(body: Body): { executionArn: string; error?: string; cause?: string } {
  return {
    executionArn: arnOf(body, 'executionArn'),
    error: str(body, 'error', MAX_ERROR),
    cause: str(body, 'cause', MAX_CAUSE),
  };
}

export interface PageRequest {
  maxResults: number;
  /** Where the page starts (0 without a token). */
  start: number;
  /** What is paged through (a token is valid for that only). */
  scope: string;
}

/**
 * Paging tokens: the position and what they page through (a listing or one execution's history),
 * so that a token of another listing, or one this endpoint never issued, is InvalidToken rather
 * than a silent restart from the first page.
 */
function encodePageToken(scope: string, start: number): string {
  return Buffer.from(JSON.stringify({ v: 1, s: scope, o: start }), 'utf8').toString('base64url');
}

function pageRequest(body: Body, scope: string): PageRequest {
  const maxResults = maxResultsOf(body);
  const token = str(body, 'nextToken', MAX_TOKEN);
  if (token === undefined) return { maxResults, start: 0, scope };
  let parsed: { v?: unknown; s?: unknown; o?: unknown } | undefined;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const o = parsed?.o;
  if (
    !token ||
    parsed?.v !== 1 ||
    parsed.s !== scope ||
    typeof o !== 'number' ||
    !Number.isInteger(o) ||
    o < 0
  ) {
    throw new SfnApiError('InvalidToken', `Invalid Token: '${token.slice(0, 64)}'`);
  }
  return { maxResults, start: o, scope };
}

export interface ListRequest extends PageRequest {
  stateMachineArn: string;
  statusFilter?: StatusFilter;
}

export function listRequest(body: Body): ListRequest {
  const stateMachineArn = arnOf(body, 'stateMachineArn');
  const status = str(body, 'statusFilter', 32);
  if (status !== undefined && !(EXECUTION_STATUSES as readonly string[]).includes(status)) {
    throw validation(
      `1 validation error detected: Value '${status}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${EXECUTION_STATUSES.join(', ')}]`,
    );
  }
  return {
    stateMachineArn,
    statusFilter: status as StatusFilter | undefined,
    ...pageRequest(body, `list:${status ?? ''}`),
  };
}

export interface HistoryRequest extends PageRequest {
  executionArn: string;
  reverseOrder: boolean;
  includeExecutionData: boolean;
}

export function historyRequest(body: Body): HistoryRequest {
  const executionArn = arnOf(body, 'executionArn');
  const reverseOrder = bool(body, 'reverseOrder') ?? false;
  const includeExecutionData = bool(body, 'includeExecutionData') ?? true;
  return {
    executionArn,
    reverseOrder,
    includeExecutionData,
    ...pageRequest(body, `history:${executionArn}:${reverseOrder ? 'r' : 'f'}`),
  };
}

/** One page of `items` and the token of the next, if any. */
export function page<T>(items: T[], req: PageRequest): { slice: T[]; next?: string } {
  const end = req.start + req.maxResults;
  return {
    slice: items.slice(req.start, end),
    next: end < items.length ? encodePageToken(req.scope, end) : undefined,
  };
}
