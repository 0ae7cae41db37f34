/** DeleteObjects (`POST /bucket?delete`): up to 1,000 keys, each deleted or answered with its error. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../store.js';
import type { S3Context } from './context.js';
import { internalError, malformedXml } from './errors.js';
import { sendXml } from './reply.js';
import { readXmlBody, type Route } from './request.js';
import { childText, el, parseXml, S3_NAMESPACE } from './xml.js';

/** S3's limit on the keys of one DeleteObjects request. */
export const MAX_DELETE_KEYS = 1000;

/** The keys and the Quiet flag of a `<Delete>` document; MalformedXML for anything else. */
export function parseDeleteRequest(body: string): { keys: string[]; quiet: boolean } {
  // Nothing is deleted on the strength of a document that is not one.
  const root = parseXml(body);
  if (root?.name !== 'Delete') throw malformedXml();
  const keys = root.children.filter((c) => c.name === 'Object').map((o) => childText(o, 'Key'));
  if (keys.length === 0 || keys.length > MAX_DELETE_KEYS) throw malformedXml();
  if (keys.some((k) => k === undefined)) throw malformedXml();
  const quiet = childText(root, 'Quiet')?.trim().toLowerCase() === 'true';
  return { keys: keys as string[], quiet };
}

export async function deleteObjects(
  ctx: S3Context,
  req: IncomingMessage,
  res: ServerResponse,
  r: Route,
): Promise<void> {
  const { keys, quiet } = parseDeleteRequest(await readXmlBody(req));
  const out: string[] = [];
  for (const key of keys) {
    try {
      if (ctx.store.delete(r.bucket!, key))
        ctx.emit({ eventName: 'ObjectRemoved:Delete', bucket: r.bucket!, key });
      if (!quiet) out.push(`<Deleted>${el('Key', key)}</Deleted>`);
    } catch (err) {
      const e = err instanceof S3Error ? err : internalError();
      out.push(`<Error>${el('Key', key)}${el('Code', e.code)}${el('Message', e.message)}</Error>`);
    }
  }
  sendXml(res, 200, `<DeleteResult xmlns="${S3_NAMESPACE}">${out.join('')}</DeleteResult>`);
}
