/**
 * The console's HTTP server (node:http): the page and its scripts (dagre served from
 * node_modules: no CDN, no build step) and a small read-only JSON API over ConsoleSource.
 *
 * Loopback only: it listens on 127.0.0.1 and answers only requests whose Host is this address
 * (a page of another site that resolves its own name to 127.0.0.1 cannot read it: DNS
 * rebinding). Only GET and HEAD. Every response carries a strict Content-Security-Policy (scripts
 * and styles from this origin only, no inline code, no framing), and the page builds its DOM
 * with text nodes, so no name or key in a result can become markup.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFound, type ConsoleSource } from './source.js';

export const STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');
/** A browser build that an npm package ships (served as it is: no build step, no CDN). */
const vendored = (pkg: string, file: string) =>
  path.join(path.dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), file);
export const DAGRE_FILE = vendored('@dagrejs/dagre', 'dist/dagre.min.js');
export const MORPHDOM_FILE = vendored('morphdom', 'dist/morphdom-umd.min.js');

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** The views, one file per view, in the order they load (each adds to `window.Facerec`); shared
 * by the console (then app.js) and the self-contained report (then report.js). */
export const VIEW_SCRIPTS = [
  'dom.js',
  'format.js',
  'json-view.js',
  'graph-view.js',
  'executions-view.js',
  'result-view.js',
  'execution-view.js',
  'gallery-view.js',
  'definition-view.js',
];

const JS = 'text/javascript; charset=utf-8';
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: path.join(STATIC_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/favicon.ico': { file: path.join(STATIC_DIR, 'favicon.svg'), type: 'image/svg+xml' },
  '/static/favicon.svg': { file: path.join(STATIC_DIR, 'favicon.svg'), type: 'image/svg+xml' },
  '/static/console.css': { file: path.join(STATIC_DIR, 'console.css'), type: 'text/css; charset=utf-8' },
  '/static/app.js': { file: path.join(STATIC_DIR, 'app.js'), type: JS },
  ...Object.fromEntries(
    VIEW_SCRIPTS.map((f) => [`/static/${f}`, { file: path.join(STATIC_DIR, f), type: JS }]),
  ),
  '/vendor/dagre.min.js': { file: DAGRE_FILE, type: JS },
  '/vendor/morphdom.min.js': { file: MORPHDOM_FILE, type: JS },
};

export interface ConsoleServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ConsoleServerOptions {
  source: ConsoleSource;
  /** 0: any free port. */
  port?: number;
  /** How often the page refreshes running things (ms). */
  pollMs?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const LOOPBACK = '127.0.0.1';

function intParam(v: string | null, name: string, max = 1_000_000): number {
  const n = Number(v);
  if (v === null || v === '' || !Number.isInteger(n) || n < 0 || n > max)
    throw new HttpError(400, `bad ${name}`);
  return n;
}

function arnParam(url: URL): string {
  const arn = url.searchParams.get('arn');
  if (!arn || !arn.startsWith('arn:') || arn.length > 2048) throw new HttpError(400, 'bad execution ARN');
  return arn;
}

export async function startConsoleServer(opts: ConsoleServerOptions): Promise<ConsoleServer> {
  const { source } = opts;
  const pollMs = opts.pollMs ?? 1000;
  const cache = new Map<string, Buffer>();
  const staticFile = async (file: string) => {
    let b = cache.get(file);
    if (!b) cache.set(file, (b = await readFile(file)));
    return b;
  };
  let port = 0;

  const api = async (url: URL): Promise<unknown> => {
    switch (url.pathname) {
      case '/api/info':
        return {
          description: source.target.description,
          buckets: source.target.buckets,
          stateMachine: source.target.stateMachineArn?.split(':').at(-1),
          pollMs,
        };
      case '/api/status':
        return source.status();
      case '/api/graph':
        return source.graph();
      case '/api/definition':
        return { file: 'statemachine/pipeline.asl.json', text: source.definitionText() };
      case '/api/executions': {
        const p = url.searchParams;
        const pageSize = p.has('limit') ? intParam(p.get('limit'), 'limit', 1000) : 50;
        const page = p.has('page') ? intParam(p.get('page'), 'page', 100_000) : 0;
        const status = p.get('status') || undefined;
        if (status && !/^(RUNNING|SUCCEEDED|FAILED|TIMED_OUT|ABORTED)$/.test(status))
          throw new HttpError(400, 'bad status');
        const search = p.get('q') ?? undefined;
        if (search && search.length > 200) throw new HttpError(400, 'search too long');
        return source.executionsPage({ status, search, page, pageSize });
      }
      case '/api/execution':
        return source.execution(arnParam(url));
      case '/api/event':
        return source.event(arnParam(url), intParam(url.searchParams.get('id'), 'event id', 10_000_000));
      case '/api/gallery':
        return source.gallery();
      default:
        throw new HttpError(404, 'no such API');
    }
  };

  const image = async (url: URL): Promise<Buffer | undefined> => {
    if (url.pathname === '/api/frame')
      return source.executionFrame(arnParam(url), intParam(url.searchParams.get('i'), 'frame index'));
    if (url.pathname === '/api/gallery/photo')
      return source.galleryPhoto(
        intParam(url.searchParams.get('p'), 'person index'),
        intParam(url.searchParams.get('i'), 'image index'),
      );
    return undefined;
  };

  const server = http.createServer((req, res) => {
    const send = (
      status: number,
      type: string,
      body: Buffer | string,
      extra: Record<string, string> = {},
    ) => {
      res.writeHead(status, {
        ...SECURITY_HEADERS,
        'content-type': type,
        'content-length': Buffer.byteLength(body),
        ...extra,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const json = (status: number, value: unknown) =>
      send(status, 'application/json; charset=utf-8', JSON.stringify(value), { 'cache-control': 'no-store' });
    void (async () => {
      try {
        const host = req.headers.host ?? '';
        if (host !== `${LOOPBACK}:${port}` && host !== `localhost:${port}`)
          throw new HttpError(421, 'this console answers only on its loopback address');
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'read-only console');
        const url = new URL(req.url ?? '/', `http://${host}`);
        const file = FILES[url.pathname];
        if (file) {
          send(200, file.type, await staticFile(file.file), { 'cache-control': 'no-cache' });
          return;
        }
        if (url.pathname === '/api/frame' || url.pathname === '/api/gallery/photo') {
          const bytes = await image(url);
          if (!bytes) throw new HttpError(404, 'no such image');
          send(200, 'image/jpeg', bytes, { 'cache-control': 'private, max-age=60' });
          return;
        }
        if (url.pathname.startsWith('/api/')) {
          json(200, await api(url));
          return;
        }
        throw new HttpError(404, 'not found');
      } catch (err) {
        const status =
          err instanceof HttpError
            ? err.status
            : err instanceof NotFound || (err as Error).name === 'ExecutionDoesNotExist'
              ? 404
              : 500;
        if (!res.headersSent) json(status, { error: (err as Error).message });
        else res.destroy();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, LOOPBACK, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
