/**
 * Reconcile: which uploads have neither an output nor an error record, and no execution working
 * on them, so that nothing uploaded is left without an answer (a lost S3 event, a crash of the
 * local stack, an execution that ended without writing anything). Pure: the listings come in,
 * the decisions go out; run.ts beside it does the calls. Not in functions/: no Lambda runs it
 * (`facerec reconcile [--aws]` and the local stack's restart recovery do).
 */
import { isVideoKey, outputKeys, videoStem } from '../../functions/core/layout.js';

export interface Listed {
  key: string;
  /** ms since the epoch */
  lastModified?: number;
}

export interface ReconcileInputs {
  inputs: readonly Listed[];
  /** Output bucket objects and failure records: `<stem>.txt`, `errors/<stem>.json`, … */
  outputs: readonly Listed[];
  /** Input keys that a RUNNING execution works on. */
  running: ReadonlySet<string>;
  extensions: readonly string[];
  /** Uploads modified after this (ms) are left to the starter (its event may be on its way). */
  uploadedBefore: number;
}

export type Decision =
  | { key: string; action: 'start' }
  | { key: string; action: 'skip'; reason: 'answered' | 'running' | 'recent' | 'not a video' };

/**
 * An upload is answered when its `<stem>.txt` or `errors/<stem>.json` is at least as new as the
 * upload (an answer older than the upload belongs to an earlier upload of the same key).
 */
export function planReconcile(i: ReconcileInputs): Decision[] {
  const outputs = new Map(i.outputs.map((o) => [o.key, o.lastModified ?? 0]));
  return i.inputs.map((o): Decision => {
    if (!isVideoKey(o.key, i.extensions)) return { key: o.key, action: 'skip', reason: 'not a video' };
    const keys = outputKeys(videoStem(o.key));
    const uploaded = o.lastModified ?? 0;
    const answered = [keys.text, keys.error].some((k) => outputs.has(k) && outputs.get(k)! >= uploaded);
    if (answered) return { key: o.key, action: 'skip', reason: 'answered' };
    if (i.running.has(o.key)) return { key: o.key, action: 'skip', reason: 'running' };
    if (uploaded > i.uploadedBefore) return { key: o.key, action: 'skip', reason: 'recent' };
    return { key: o.key, action: 'start' };
  });
}
