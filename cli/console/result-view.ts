/**
 * A processed video's result as the console and the report show it, read defensively from the
 * detail JSON (`<stem>.json`) the result function writes: any field may be missing or of another
 * shape (older results, other profiles, fields added later such as frame times and per-person
 * appearances), and nothing in it is trusted: names and keys are only ever shown as text.
 */

interface FaceView {
  name: string;
  distance: number | null;
  score?: number;
  box?: { x: number; y: number; width: number; height: number };
}

export interface FrameView {
  index: number;
  key: string;
  /** Seconds into the video, when the result gives it. */
  timeSec?: number;
  width?: number;
  height?: number;
  error?: string;
  faces: FaceView[];
  facesTotal?: number;
}

interface AppearanceView {
  fromSec?: number;
  toSec?: number;
  fromFrame?: number;
  toFrame?: number;
}

interface PersonView {
  name: string;
  frames?: number;
  faces?: number;
  bestDistance?: number | null;
  firstSeenSec?: number;
  lastSeenSec?: number;
  /** Seconds on screen, when the result says. */
  screenTimeSec?: number;
  appearances: AppearanceView[];
}

export interface ResultView {
  video: { bucket?: string; key: string };
  /** The chosen name (`<stem>.txt`). */
  name: string;
  people: PersonView[];
  frames: FrameView[];
  framesAnalysed?: number;
  framesFailed?: number;
  faces?: number;
  unknownFaces?: number;
  durationSec?: number;
  profile?: string;
  execution?: string;
  createdAt?: string;
  timings: Array<{ label: string; ms: number }>;
  failedBatches: Array<{ batch?: number; error: string; reason?: string }>;
  notes: string[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
/** The first finite number among the named fields. */
const numOf = (o: Obj | undefined, ...names: string[]) => {
  for (const n of names) {
    const v = num(o?.[n]);
    if (v !== undefined) return v;
  }
  return undefined;
};
const MAX_ITEMS = 2000;

function box(v: unknown): FaceView['box'] {
  const b = obj(v);
  const x = num(b?.x),
    y = num(b?.y),
    width = num(b?.width),
    height = num(b?.height);
  return x !== undefined && y !== undefined && width !== undefined && height !== undefined
    ? { x, y, width, height }
    : undefined;
}

function face(v: unknown): FaceView | undefined {
  const f = obj(v);
  if (!f) return undefined;
  const distance = num(f.distance);
  return {
    name: str(f.name) ?? '?',
    distance: distance ?? null,
    ...(num(f.score) !== undefined ? { score: num(f.score) } : {}),
    ...(box(f.box) ? { box: box(f.box) } : {}),
  };
}

function appearance(v: unknown): AppearanceView | undefined {
  // An interval may also be a pair of seconds: [from, to].
  if (Array.isArray(v) && v.length === 2 && v.every((x) => num(x) !== undefined))
    return { fromSec: v[0] as number, toSec: v[1] as number };
  const a = obj(v);
  if (!a) return undefined;
  const out: AppearanceView = {
    fromSec: numOf(a, 'fromSec', 'startSec', 'firstSeenSec', 'firstSeen', 'start', 'from'),
    toSec: numOf(a, 'toSec', 'endSec', 'lastSeenSec', 'lastSeen', 'end', 'to'),
    fromFrame: numOf(a, 'fromFrame', 'startFrame', 'firstFrame'),
    toFrame: numOf(a, 'toFrame', 'endFrame', 'lastFrame'),
  };
  return Object.values(out).some((x) => x !== undefined) ? out : undefined;
}

/** A time field that may be seconds (`…Sec`, plain numbers) or an object with seconds. */
function seconds(o: Obj | undefined, ...names: string[]): number | undefined {
  for (const n of names) {
    const v = o?.[n];
    if (num(v) !== undefined) return num(v);
    const nested = obj(v);
    const s = numOf(nested, 'sec', 'seconds', 'timeSec', 'time', 't');
    if (s !== undefined) return s;
  }
  return undefined;
}

function person(v: unknown, byName: Map<string, Obj>): PersonView | undefined {
  const p = obj(v);
  const name = str(p?.name);
  if (!p || !name) return undefined;
  const extra = byName.get(name);
  // Intervals under any of the names a result may give them, on the person or beside it.
  const lists = (o: Obj | undefined) =>
    ['appearances', 'intervals', 'spans', 'segments', 'seen'].flatMap((k) => arr(o?.[k]));
  const appearances = [...lists(p), ...(lists(p).length ? [] : lists(extra))]
    .slice(0, MAX_ITEMS)
    .map(appearance)
    .filter((a): a is AppearanceView => !!a);
  const first =
    seconds(p, 'firstSeenSec', 'firstSeen', 'first') ?? seconds(extra, 'firstSeenSec', 'firstSeen', 'first');
  const last =
    seconds(p, 'lastSeenSec', 'lastSeen', 'last') ?? seconds(extra, 'lastSeenSec', 'lastSeen', 'last');
  const bestDistance = p.bestDistance === null ? null : num(p.bestDistance);
  const screenTime =
    numOf(p, 'screenTimeSec', 'secondsOnScreen') ?? numOf(extra, 'screenTimeSec', 'secondsOnScreen');
  return {
    name,
    frames: num(p.frames) ?? num(extra?.frames),
    faces: num(p.faces),
    ...(screenTime !== undefined ? { screenTimeSec: screenTime } : {}),
    ...(bestDistance !== undefined ? { bestDistance } : {}),
    ...(first !== undefined ? { firstSeenSec: first } : {}),
    ...(last !== undefined ? { lastSeenSec: last } : {}),
    appearances,
  };
}

/** The detail JSON of a video (`<stem>.json`), whatever it holds. */
export function resultView(detail: unknown, fallback: { key?: string; name?: string } = {}): ResultView {
  const d = obj(detail) ?? {};
  const notes: string[] = [];
  const video = obj(d.video);
  const framesObj = obj(d.frames);
  const frameList = arr(framesObj?.results ?? d.frames);
  const frames: FrameView[] = frameList.slice(0, MAX_ITEMS).flatMap((v, index) => {
    const f = obj(v);
    const key = str(f?.key);
    if (!f || !key) return [];
    const err = obj(f.error);
    return [
      {
        index,
        key,
        ...(seconds(f, 'timeSec', 'time', 't', 'seconds', 'at') !== undefined
          ? { timeSec: seconds(f, 'timeSec', 'time', 't', 'seconds', 'at') }
          : {}),
        width: num(f.width),
        height: num(f.height),
        ...(err ? { error: `${str(err.type) ?? 'error'}: ${str(err.message) ?? ''}` } : {}),
        faces: arr(f.faces)
          .slice(0, 100)
          .map(face)
          .filter((x): x is FaceView => !!x),
        facesTotal: num(f.facesTotal),
      },
    ];
  });
  if (frameList.length > MAX_ITEMS)
    notes.push(`only the first ${MAX_ITEMS} of ${frameList.length} frames are shown`);
  // Per-person extras may also come as a separate list or map (appearances by name).
  const byName = new Map<string, Obj>();
  const extraList = d.appearances ?? d.personAppearances;
  if (Array.isArray(extraList)) {
    for (const e of extraList) {
      const o = obj(e);
      const n = str(o?.name);
      if (o && n) byName.set(n, o);
    }
  } else if (obj(extraList)) {
    for (const [n, v] of Object.entries(obj(extraList)!)) {
      const o = obj(v) ?? (Array.isArray(v) ? { appearances: v } : undefined);
      if (o) byName.set(n, o);
    }
  }
  const people = arr(d.people)
    .slice(0, MAX_ITEMS)
    .map((p) => person(p, byName))
    .filter((p): p is PersonView => !!p);
  const timingsObj = obj(d.timings);
  const timings: ResultView['timings'] = [];
  const split = obj(timingsObj?.split);
  for (const [k, label] of [
    ['downloadMs', 'download video'],
    ['ffmpegMs', 'ffmpeg'],
    ['uploadMs', 'upload frames'],
  ] as const) {
    const ms = num(split?.[k]);
    if (ms !== undefined) timings.push({ label, ms });
  }
  const recognition = obj(timingsObj?.recognition);
  if (num(recognition?.totalMs) !== undefined)
    timings.push({ label: 'recognition (all batches)', ms: num(recognition!.totalMs)! });
  if (num(recognition?.slowestBatchMs) !== undefined)
    timings.push({ label: 'slowest batch', ms: num(recognition!.slowestBatchMs)! });
  if (num(timingsObj?.executionMs) !== undefined)
    timings.push({ label: 'execution', ms: num(timingsObj!.executionMs)! });
  const failedBatches = arr(d.failedBatches)
    .slice(0, 100)
    .flatMap((v) => {
      const b = obj(v);
      return b ? [{ batch: num(b.batch), error: str(b.error) ?? 'error', reason: str(b.reason) }] : [];
    });
  const name = str(d.name) ?? fallback.name ?? '?';
  return {
    video: { bucket: str(video?.bucket), key: str(video?.key) ?? fallback.key ?? '?' },
    name,
    people,
    frames,
    framesAnalysed: num(framesObj?.analysed),
    framesFailed: num(framesObj?.failed),
    faces: num(d.faces),
    unknownFaces: num(d.unknownFaces),
    durationSec: num(d.durationSec),
    profile: str(d.profile),
    execution: str(d.execution),
    createdAt: str(d.createdAt),
    timings,
    failedBatches,
    notes,
  };
}

/** The boxes and labels to draw on a frame (what `facerec identify --annotate` draws). */
export function frameMarks(frame: FrameView, unknownName = 'Unknown') {
  return frame.faces
    .filter((f) => f.box)
    .map((f) => ({
      box: f.box!,
      known: f.name !== unknownName,
      label: `${f.name}${f.distance === null ? '' : ` ${f.distance.toFixed(2)}`}`,
    }));
}
