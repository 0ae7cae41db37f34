/**
 * IAM on the local Step Functions endpoint: each API operation's action (`states:<Operation>`) on
 * its resource (the state machine, or the execution), decided for the calling role, answered
 * with `AccessDeniedException` (HTTP 400, as Step Functions does).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { SfnApiError } from '../sfn/service.js';
import type { IamEvaluator } from './evaluate.js';
import type { LocalIdentities } from './identities.js';

/** The resource an operation acts on: by the request's ARN field, else `*` (list operations). */
function sfnResourceOf(body: Record<string, unknown>): string {
  const arn = body.executionArn ?? body.stateMachineArn;
  return typeof arn === 'string' && arn !== '' ? arn : '*';
}

/** The hook of the Step Functions endpoint: throws AccessDeniedException when the calling role
 * may not call `operation`. */
export function sfnAuthorizer(identities: LocalIdentities, evaluator: IamEvaluator) {
  return async (
    headers: IncomingHttpHeaders,
    operation: string,
    body: Record<string, unknown>,
  ): Promise<void> => {
    const caller = identities.callerOf(headers);
    if (!('role' in caller)) return;
    const d = await evaluator.decide({
      role: caller.role,
      action: `states:${operation}`,
      resource: sfnResourceOf(body),
    });
    if (!d.allowed) throw new SfnApiError('AccessDeniedException', d.message, 400);
  };
}
