/** Writing S3's answers: XML documents, empty answers and errors (as XML, or as headers for HEAD). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Error } from '../store.js';
import { errorXml } from './errors.js';
import { XML_HEAD } from './xml.js';

export function sendXml(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  const buf = Buffer.from(XML_HEAD + body, 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': buf.length, ...headers });
  res.end(buf);
}

/** An answer without a body. */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, headers);
  res.end();
}

export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  err: S3Error,
  route?: { bucket?: string; key?: string },
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorXml(err, res.getHeader('x-amz-request-id') as string, route);
  // A request body the handler did not read must not be parsed as the next request.
  if (!req.complete) res.setHeader('Connection', 'close');
  if (req.method === 'HEAD') {
    res.writeHead(err.status, { 'x-amz-error-code': err.code });
    res.end();
  } else sendXml(res, err.status, body);
}
