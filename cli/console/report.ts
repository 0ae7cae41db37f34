/**
 * `facerec report`: one video's result as a single self-contained HTML file: the console's own
 * stylesheet and views inlined, the annotated frames as data: URIs, the data as a JSON block
 * (not executed; `<` escaped so that no string in it can close the block). A Content-Security-
 * Policy in the file allows exactly its own inline scripts and style (by hash) and data: images:
 * nothing is fetched, and no name or key in the result can run as script.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ResultView } from './result-view.js';
import { DAGRE_FILE, MORPHDOM_FILE, STATIC_DIR, VIEW_SCRIPTS } from './server.js';
import type { ExecutionDetail } from './source.js';
import type { GraphScope } from './state-graph.js';

export interface ReportData {
  /** The result (absent for a video that failed: then the execution holds its failure record). */
  result?: ResultView;
  /** The execution (graph colours, history) when it could still be read. */
  execution?: ExecutionDetail;
  graph?: GraphScope;
  /** Annotated frames by frame index, as data: URIs. */
  images: Record<number, string>;
  notes: string[];
  /** One line: what made the report, and when. */
  generated: string;
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON that is safe inside a <script type="application/json"> block. */
export const jsonForHtml = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

export const jpegDataUri = (bytes: Uint8Array) =>
  `data:image/jpeg;base64,${Buffer.from(bytes).toString('base64')}`;

export function reportHtml(data: ReportData): string {
  const css = readFileSync(path.join(STATIC_DIR, 'console.css'), 'utf8');
  const scripts = [
    readFileSync(DAGRE_FILE, 'utf8'),
    readFileSync(MORPHDOM_FILE, 'utf8'),
    ...[...VIEW_SCRIPTS, 'report.js'].map((f) => readFileSync(path.join(STATIC_DIR, f), 'utf8')),
  ];
  const favicon = `data:image/svg+xml;base64,${readFileSync(path.join(STATIC_DIR, 'favicon.svg')).toString('base64')}`;
  const title = data.result?.video.key ?? data.execution?.video ?? data.execution?.name ?? 'report';
  for (const s of scripts) if (/<\/script/i.test(s)) throw new Error('a script to inline contains </script');
  const csp = [
    "default-src 'none'",
    `script-src ${scripts.map(sha256).join(' ')}`,
    `style-src ${sha256(css)}`,
    'img-src data:',
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  // Constants and base64 hashes only: nothing to escape in the attribute.
  if (/["<>&]/.test(csp)) throw new Error('unexpected character in the CSP');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>facerec report: ${escapeHtml(title)}</title>
<link rel="icon" href="${favicon}">
<style>${css}</style>
</head>
<body class="report">
<header class="top"><span class="brand">facerec report</span><span id="target" class="muted small"></span></header>
<main id="view"><noscript>This report draws its content with JavaScript.</noscript></main>
<script type="application/json" id="report-data">${jsonForHtml(data)}</script>
${scripts.map((s) => `<script>${s}</script>`).join('\n')}
</body>
</html>
`;
}
