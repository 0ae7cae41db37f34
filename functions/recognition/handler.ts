/**
 * recognition: a batch of stage-1 frame keys -> per frame, the faces (box, score, name,
 * distance). The face engine (3 ONNX sessions) loads once per warm container; the gallery is
 * re-checked in S3 at most every few seconds (functions/aws/gallery-source.ts), so a pushed
 * gallery is used without a redeploy.
 *
 * A frame that is not a decodable image is reported as a frame error (bad input: retrying would
 * not help, and one bad frame must not sink the video); transient S3 errors fail the batch so
 * the state machine retries it.
 */
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import { compactFaces } from '../core/batches.js';
import { Semaphore } from '../core/concurrency.js';
import {
  RecognitionInputSchema,
  type FrameResult,
  type RecognitionInput,
  type RecognitionOutput,
} from '../core/contracts.js';
import { createFaceEngine } from '../core/faces/engine.js';
import type { FrameAnalysis } from '../core/faces/types.js';
import { DESCRIPTOR_SIZE } from '../core/faces/describe.js';
import { galleryId, type AnyGallery } from '../core/gallery/read.js';
import { classifyError, ErrorName } from '../aws/errors.js';
import { galleryLocationOf, gallerySource, type GallerySource } from '../aws/gallery-source.js';
import {
  classifyErrors,
  functionLogger,
  lambdaEntry,
  logContext,
  logKeys,
  type FacerecContext,
} from '../aws/middleware.js';
import { observability } from '../aws/observability.js';
import { lazyDeps, type Deps } from '../aws/runtime.js';
import { getBytes } from '../aws/s3.js';

/**
 * What recognition needs from the face engine (functions/core/faces/engine.ts's BatchFaceEngine;
 * tests pass a stand-in): decode, detection per frame, then the landmarks and descriptors of all
 * the batch's faces in one run of each net. `D` and `F` are the engine's decoded and detected
 * frames (opaque here).
 */
export interface Engine<D = unknown, F = unknown> {
  readonly modelId: string;
  /** Values per descriptor (an empty gallery is made with it); default 128. */
  readonly descriptorSize?: number;
  /** Throws a bad-input error (ImageDecodeError) for bytes that are not an image. */
  decode(image: Uint8Array): Promise<D>;
  detect(frame: D): Promise<F>;
  identifyDetected(frames: F[], gallery: AnyGallery): Promise<FrameAnalysis[]>;
}

export interface RecognitionDeps extends Deps {
  engine?: () => Promise<Engine>;
  gallery?: (modelId: string) => Promise<AnyGallery>;
}

interface Loaded {
  engine: Engine;
  loadMs: number;
}

/** Downloads at once per invocation. */
const DOWNLOADS = 4;

/** A detected frame, or why it could not be (bad input: reported as a frame error). */
type FrameWork = { key: string; detected: unknown } | { key: string; error: Error };

/**
 * The batch's frames, overlapped: every download starts at once (DOWNLOADS at a time), each frame
 * is decoded as soon as its bytes arrive (sharp, off the main thread), and detected as soon as it
 * is decoded, one frame at a time (onnxruntime-node runs the nets on the calling thread, so
 * detections side by side would only take turns), while the other frames still download and
 * decode. Then the landmarks and descriptors of every face of the batch go through their nets in
 * one run each. A frame that cannot be downloaded as bad input (no such key) or decoded is a
 * frame error, not a failed batch; any other error fails the batch (the state machine retries it).
 */
async function analyseFrames(
  keys: string[],
  download: (key: string) => Promise<Uint8Array>,
  engine: Engine,
  gallery: AnyGallery,
  context: FacerecContext,
  facesPerFrame: number,
): Promise<FrameResult[]> {
  const downloads = new Semaphore(DOWNLOADS);
  const detector = new Semaphore(1);
  /** A bad-input error as the frame's error (`type`: the download's classified error, the
   * decoder's own name); any other error fails the batch. */
  const badInput = (key: string, err: unknown, stage: 'download' | 'decode'): FrameWork => {
    const e = classifyError(err);
    if (e.name !== ErrorName.BadInput) throw err;
    context.log.warn('frame skipped', { key, reason: e.message });
    const type = stage === 'download' ? e.name : (err as Error).name;
    return { key, error: Object.assign(new Error(e.message), { name: type }) };
  };
  const work = await Promise.all(
    keys.map(async (key): Promise<FrameWork> => {
      let bytes: Uint8Array;
      try {
        bytes = await downloads.run(() => download(key), context.abortSignal);
      } catch (err) {
        return badInput(key, err, 'download');
      }
      let decoded: unknown;
      try {
        decoded = await engine.decode(bytes);
      } catch (err) {
        return badInput(key, err, 'decode');
      }
      // Abandoned (local mode): stop between frames.
      const detected = await detector.run(() => engine.detect(decoded), context.abortSignal);
      return { key, detected };
    }),
  );
  context.abortSignal?.throwIfAborted();
  const ok = work.filter((w): w is Extract<FrameWork, { detected: unknown }> => 'detected' in w);
  const analyses = await engine.identifyDetected(
    ok.map((w) => w.detected),
    gallery,
  );
  const analysisOf = new Map(ok.map((w, i) => [w, analyses[i]]));
  return work.map((w): FrameResult => {
    if ('error' in w)
      return { key: w.key, faces: [], error: { type: w.error.name, message: w.error.message } };
    const analysis = analysisOf.get(w)!;
    const t = analysis.timings;
    return {
      key: w.key,
      width: analysis.width,
      height: analysis.height,
      ...compactFaces(analysis, facesPerFrame),
      // The engine's time on this frame: its decode and detection, its share of the batch's nets.
      ms: Math.round(t.decodeMs + t.detectMs + t.landmarksMs + t.descriptorMs),
    };
  });
}

export function createHandler(deps: RecognitionDeps = {}) {
  const resolve = lazyDeps(deps);
  let loaded: Promise<Loaded> | undefined;
  let source: GallerySource | undefined;
  const load = (): Promise<Loaded> => {
    if (!loaded) {
      loaded = (async () => {
        const { config } = resolve();
        const t0 = performance.now();
        // Sessions are created once per process (loadFaceModels); this runs once per container.
        const engine = deps.engine ? await deps.engine() : await createFaceEngine(config.engine);
        return { engine, loadMs: Math.round(performance.now() - t0) };
      })();
      loaded.catch(() => (loaded = undefined));
    }
    return loaded;
  };
  /** The gallery for this invocation: re-checked in S3 at most every few seconds. */
  const currentGallery = async (engine: Engine): Promise<{ gallery: AnyGallery; id: string }> => {
    if (deps.gallery) {
      const gallery = await deps.gallery(engine.modelId);
      return { gallery, id: galleryId(gallery) };
    }
    source ??= gallerySource(galleryLocationOf(resolve().config), () => resolve().s3);
    return source.current(engine.modelId, engine.descriptorSize ?? DESCRIPTOR_SIZE);
  };

  /** Lambda's init phase (see the end of this module): with engine.loadAtInit, load the engine,
   * then the gallery, before the first invocation. Never throws: a failure is logged and left to
   * the first invocation, which loads again and reports it. */
  let warm = false;
  const warmUp = async (): Promise<void> => {
    try {
      if (!resolve().config.engine.loadAtInit) return;
      const { engine } = await load();
      warm = true;
      await currentGallery(engine);
    } catch (err) {
      functionLogger('recognition').warn('init-phase load failed; the first invocation retries', {
        error: err as Error,
      });
    }
  };

  const handle = async (input: RecognitionInput, context: FacerecContext): Promise<RecognitionOutput> => {
    const t0 = performance.now();
    const { s3 } = resolve();
    const wasLoaded = loaded !== undefined;
    const { engine, loadMs } = await load();
    const { gallery, id: gid } = await currentGallery(engine);

    const download = (key: string) => getBytes(s3, { bucket: input.bucket, key }, context.abortSignal);
    const frames = await analyseFrames(
      input.keys,
      download,
      engine,
      gallery,
      context,
      resolve().config.pipeline.frames.facesPerFrame,
    );
    context.log.info('batch analysed', {
      frames: frames.length,
      faces: frames.reduce((n, f) => n + (f.facesTotal ?? 0), 0),
      failedFrames: frames.filter((f) => f.error).length,
    });
    return {
      ...(input.batch !== undefined ? { batch: input.batch } : {}),
      frames,
      modelId: engine.modelId,
      galleryId: gid,
      timings: {
        totalMs: Math.round(performance.now() - t0),
        ...(wasLoaded ? {} : { engineLoadMs: loadMs }),
      },
    };
  };
  const handler = lambdaEntry(
    middy(handle)
      .use(logContext('recognition', () => resolve().config.pipeline.logLevel))
      .use(classifyErrors())
      .use(parser({ schema: RecognitionInputSchema }))
      .use(logKeys((e: RecognitionInput) => ({ execution: e.execution, video: e.video, batch: e.batch })))
      .use(observability('recognition', () => resolve().config)),
  );
  return Object.assign(handler, { warmUp, isWarm: () => warm });
}

export const handler = createHandler();

// Lambda imports this module and awaits its top level in the init phase, before the first
// invocation (and outside its timeout), so the first batch does not wait for the models.
await handler.warmUp();
