/**
 * IAM on the local S3 server: which action(s) a request needs on which resource (as the S3
 * authorization reference lists them), decided for the calling role, answered with S3's
 * `AccessDenied` (403). Includes S3's rule for missing objects: GetObject or HeadObject of a key
 * that does not exist answers 404 only to a caller allowed `s3:ListBucket` on the bucket, and 403
 * AccessDenied to anyone else (so that the key's absence does not leak).
 */
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Route } from '../s3/api/request.js';
import { S3Error, type FileObjectStore } from '../s3/store.js';
import type { IamEvaluator } from './evaluate.js';
import type { LocalIdentities } from './identities.js';
import type { RoleName } from './policy-set.js';

export interface S3Check {
  action: string;
  bucket?: string;
  /** The object's key (object actions). */
  key?: string;
  context?: Record<string, string>;
  /** GetObject/HeadObject: a missing key answers 403 unless ListBucket is allowed. */
  readsObject?: boolean;
}

const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
const resourceOf = (c: S3Check) =>
  c.bucket === undefined
    ? '*'
    : c.key === undefined
      ? bucketArn(c.bucket)
      : `${bucketArn(c.bucket)}/${c.key}`;

/** The S3 source of a CopyObject (`x-amz-copy-source: /bucket/key?versionId=...`), decoded. */
function copySource(header: string): { bucket: string; key: string; versionId?: string } | undefined {
  const [pathPart, query] = header.replace(/^\//, '').split('?', 2);
  const slash = pathPart.indexOf('/');
  if (slash <= 0) return undefined;
  try {
    return {
      bucket: decodeURIComponent(pathPart.slice(0, slash)),
      key: decodeURIComponent(pathPart.slice(slash + 1)),
      versionId: new URLSearchParams(query ?? '').get('versionId') ?? undefined,
    };
  } catch {
    return undefined;
  }
}

/**
 * What a request needs, by S3's authorization reference. Requests the server does not serve need
 * nothing here (the router answers them). DeleteObjects is authorized per key by S3; here, before
 * its body is read, it needs s3:DeleteObject on an arbitrary key of the bucket (stricter).
 */
function s3ChecksOf(req: IncomingMessage, r: Route): S3Check[] {
  const q = r.query;
  const { bucket, key } = r;
  if (!bucket) return r.method === 'GET' ? [{ action: 's3:ListAllMyBuckets' }] : [];
  if (key === undefined) {
    switch (r.method) {
      case 'PUT':
        return q.size === 0 ? [{ action: 's3:CreateBucket', bucket }] : [];
      case 'DELETE':
        return q.size === 0 ? [{ action: 's3:DeleteBucket', bucket }] : [];
      case 'HEAD':
        return [{ action: 's3:ListBucket', bucket }];
      case 'POST':
        return q.has('delete') ? [{ action: 's3:DeleteObject', bucket, key: `any-key-${randomUUID()}` }] : [];
      case 'GET':
        if (q.has('location')) return [{ action: 's3:GetBucketLocation', bucket }];
        if (q.has('versioning')) return [{ action: 's3:GetBucketVersioning', bucket }];
        if (q.has('uploads')) return [{ action: 's3:ListBucketMultipartUploads', bucket }];
        if (q.has('versions')) return [{ action: 's3:ListBucketVersions', bucket }];
        return [
          {
            action: 's3:ListBucket',
            bucket,
            context: Object.fromEntries(
              (['prefix', 'delimiter', 'max-keys'] as const)
                .filter((k) => q.has(k))
                .map((k) => [`s3:${k}`, q.get(k)!]),
            ),
          },
        ];
      default:
        return [];
    }
  }
  const uploadId = q.get('uploadId');
  const versionId = q.get('versionId');
  switch (r.method) {
    case 'GET':
    case 'HEAD':
      if (uploadId !== undefined) return [{ action: 's3:ListMultipartUploadParts', bucket, key }];
      return [
        {
          action: versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject',
          bucket,
          key,
          readsObject: true,
        },
      ];
    case 'PUT': {
      const put: S3Check = { action: 's3:PutObject', bucket, key };
      const header = req.headers['x-amz-copy-source'];
      const source = typeof header === 'string' ? copySource(header) : undefined;
      if (!source) return [put];
      const read = source.versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject';
      return [put, { action: read, bucket: source.bucket, key: source.key }];
    }
    case 'DELETE':
      if (uploadId !== undefined) return [{ action: 's3:AbortMultipartUpload', bucket, key }];
      return [
        { action: versionId !== undefined ? 's3:DeleteObjectVersion' : 's3:DeleteObject', bucket, key },
      ];
    case 'POST':
      return [{ action: 's3:PutObject', bucket, key }];
    default:
      return [];
  }
}

const accessDenied = (message: string) => new S3Error('AccessDenied', 403, message);

/** The hook of the S3 router: throws AccessDenied when the calling role may not do the request. */
export function s3Authorizer(identities: LocalIdentities, evaluator: IamEvaluator) {
  const { bucketPolicies } = evaluator.set;
  const decide = (role: RoleName, c: S3Check) =>
    evaluator.decide({
      role,
      action: c.action,
      resource: resourceOf(c),
      resourcePolicy: c.bucket === undefined ? undefined : bucketPolicies[c.bucket],
      context: c.context,
    });
  return async (req: IncomingMessage, r: Route, store: FileObjectStore): Promise<void> => {
    const caller = identities.callerOf(req.headers, r.query);
    if (!('role' in caller)) return;
    // A bucket that does not exist is the router's NoSuchBucket, whoever asks.
    if (r.bucket !== undefined && !store.hasBucket(r.bucket)) return;
    for (const check of s3ChecksOf(req, r)) {
      const d = await decide(caller.role, check);
      if (!d.allowed) throw accessDenied(d.message);
      if (check.readsObject && !objectExists(store, check.bucket!, check.key!)) {
        const list = await decide(caller.role, { action: 's3:ListBucket', bucket: check.bucket });
        if (!list.allowed) throw accessDenied(list.message);
      }
    }
  };
}

function objectExists(store: FileObjectStore, bucket: string, key: string): boolean {
  try {
    store.head(bucket, key);
    return true;
  } catch {
    return false;
  }
}
