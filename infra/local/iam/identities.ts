/**
 * Who calls a local endpoint. Each function gets its own credentials in its environment, as
 * Lambda gives each function its role's temporary credentials (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); a request signed with a function's access key is
 * that function's role. Any other caller (the CLI user, tests that seed buckets, the stack's own
 * gallery push and reconcile) is the account's administrator, as with the docs' "any credentials
 * are accepted". Signatures are not verified: the keys identify callers on this machine, they do
 * not protect anything (the endpoints listen on loopback).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RoleName } from './policy-set.js';

export interface RoleCredentials {
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_SESSION_TOKEN: string;
}

/** The caller of a request: a role of the stack, or the administrator. */
export type Caller = { role: RoleName } | { admin: true };

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const accessKeyId = () => `ASIA${[...randomBytes(16)].map((b) => BASE32[b % 32]).join('')}`;

/** The access key of a SigV4-signed request (Authorization header, or a presigned URL's query). */
export function accessKeyOf(headers: IncomingHttpHeaders, query?: Map<string, string>): string | undefined {
  const auth = headers.authorization;
  const fromHeader = typeof auth === 'string' ? /Credential=([^/,\s]+)\//.exec(auth)?.[1] : undefined;
  return fromHeader ?? query?.get('X-Amz-Credential')?.split('/')[0];
}

export class LocalIdentities {
  private readonly byKey = new Map<string, RoleName>();
  private readonly byRole = new Map<RoleName, RoleCredentials>();

  /** The credentials of `role` (made once per stack): what its function's environment carries. */
  credentials(role: RoleName): RoleCredentials {
    let c = this.byRole.get(role);
    if (!c) {
      c = {
        AWS_ACCESS_KEY_ID: accessKeyId(),
        AWS_SECRET_ACCESS_KEY: randomBytes(30).toString('base64'),
        AWS_SESSION_TOKEN: randomBytes(48).toString('base64'),
      };
      this.byRole.set(role, c);
      this.byKey.set(c.AWS_ACCESS_KEY_ID, role);
    }
    return c;
  }

  callerOf(headers: IncomingHttpHeaders, query?: Map<string, string>): Caller {
    const key = accessKeyOf(headers, query);
    const role = key === undefined ? undefined : this.byKey.get(key);
    return role ? { role } : { admin: true };
  }
}
