/**
 * Reconcile: which uploads have neither an output nor an error record, and no execution working
 * on them, so that nothing uploaded is left without an answer (a lost S3 event, a crash of the
 * local stack, an execution that ended without writing anything). Pure: the listings come in,
 * the decisions go out; run.ts beside it does the calls. Not in functions/: no Lambda runs it
 * (`facerec reconcile [--aws]` and the local stack's restart recovery do).
 */
import { isVideoKey, outputKeys, videoStem } from '../../functions/core/layout.js';
import { LATE_ANSWER_WINDOW_MS, normalizeEtag } from '../../functions/core/upload-version.js';

export interface Listed {
  key: string;
  /** ms since the epoch */
  lastModified?: number;
  /** The listing's ETag (quoted or not): which upload of the key this is. */
  etag?: string;
}

/** What a RUNNING execution works on: the key, and the upload's ETag when its input names one. */
export interface RunningUpload {
  key: string;
  etag?: string;
}

export interface ReconcileInputs {
  inputs: readonly Listed[];
  /** Output bucket objects and failure records: `<stem>.txt`, `errors/<stem>.json`, … */
  outputs: readonly Listed[];
  /** The uploads RUNNING executions work on. An execution of an older upload of the same key
   * (another ETag) does not answer the newer one: it ends superseded, writing nothing. */
  running: readonly RunningUpload[];
  extensions: readonly string[];
  /** Uploads modified after this (ms) are left to the starter (its event may be on its way). */
  uploadedBefore: number;
  /** Answer key -> the ETag of the upload it answers (its metadata), for the answers that
   * answersToCheck named; an answer without one is judged by its date alone. */
  answeredUploads?: ReadonlyMap<string, string | undefined>;
}

export type Decision =
  | { key: string; action: 'start' }
  | { key: string; action: 'skip'; reason: 'answered' | 'running' | 'recent' | 'not a video' };

/**
 * An upload is running when an execution of this upload (same key and ETag) runs.
 * An upload is answered when its `<stem>.txt` or `errors/<stem>.json` is at least as new as the
 * upload (an answer older than the upload belongs to an earlier upload of the same key) and, when
 * its metadata names the upload it answers (answeredUploads), names this one: an older
 * execution's write can land just after a re-upload (its currency check passed just before).
 */
export function planReconcile(i: ReconcileInputs): Decision[] {
  const outputs = new Map(i.outputs.map((o) => [o.key, o.lastModified ?? 0]));
  /** `answer` is at least as new as upload `o`, and (when it says) answers this very upload. */
  const answers = (answer: string, o: Listed) => {
    if (!outputs.has(answer) || outputs.get(answer)! < (o.lastModified ?? 0)) return false;
    const of = i.answeredUploads?.get(answer);
    const etag = normalizeEtag(o.etag);
    return !of || !etag || of === etag;
  };
  // key -> ETags of the uploads running executions work on ('' when an input names none).
  const running = new Map<string, Set<string>>();
  for (const r of i.running) {
    const etags = running.get(r.key) ?? new Set<string>();
    etags.add(normalizeEtag(r.etag) ?? '');
    running.set(r.key, etags);
  }
  const isRunning = (o: Listed) => {
    const etags = running.get(o.key);
    if (!etags) return false;
    const etag = normalizeEtag(o.etag);
    // Without an ETag on either side the uploads cannot be told apart: count it as this one.
    return !etag || etags.has('') || etags.has(etag);
  };
  return i.inputs.map((o): Decision => {
    if (!isVideoKey(o.key, i.extensions)) return { key: o.key, action: 'skip', reason: 'not a video' };
    const keys = outputKeys(videoStem(o.key));
    const uploaded = o.lastModified ?? 0;
    const answered = [keys.text, keys.error].some((k) => answers(k, o));
    if (answered) return { key: o.key, action: 'skip', reason: 'answered' };
    if (isRunning(o)) return { key: o.key, action: 'skip', reason: 'running' };
    if (uploaded > i.uploadedBefore) return { key: o.key, action: 'skip', reason: 'recent' };
    return { key: o.key, action: 'start' };
  });
}

/**
 * The answers whose metadata reconcile must read (HeadObject): those written within
 * LATE_ANSWER_WINDOW_MS after the upload they seem to answer. An answer written later was checked
 * after the upload (newest upload wins), so its date suffices; older uploads of a busy bucket
 * cost no request.
 */
export function answersToCheck(
  inputs: readonly Listed[],
  outputs: readonly Listed[],
  extensions: readonly string[],
): string[] {
  const dated = new Map(outputs.map((o) => [o.key, o.lastModified ?? 0]));
  const check = new Set<string>();
  for (const o of inputs) {
    if (!isVideoKey(o.key, extensions)) continue;
    const uploaded = o.lastModified ?? 0;
    const keys = outputKeys(videoStem(o.key));
    for (const k of [keys.text, keys.error]) {
      const at = dated.get(k);
      if (at !== undefined && at >= uploaded && at - uploaded < LATE_ANSWER_WINDOW_MS) check.add(k);
    }
  }
  return [...check];
}
