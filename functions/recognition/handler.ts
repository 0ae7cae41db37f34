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
import { compactFaces } from '../core/batches.js';
import { mapLimit } from '../core/concurrency.js';
import {
  RecognitionInputSchema,
  type FrameResult,
  type RecognitionInput,
  type RecognitionOutput,
} from '../core/contracts.js';
import { createFaceEngine } from '../core/faces/engine.js';
import type { FrameAnalysis } from '../core/faces/types.js';
import { DESCRIPTOR_SIZE } from '../core/faces/describe.js';
import { galleryId, type Gallery } from '../core/gallery.js';
import { classifyError, ErrorName } from '../aws/errors.js';
import { galleryLocationOf, gallerySource, type GallerySource } from '../aws/gallery-source.js';
import { wrapHandler, type FacerecContext } from '../aws/middleware.js';
import { lazyDeps, type Deps } from '../aws/runtime.js';
import { getBytes } from '../aws/s3.js';

/** What recognition needs from the face engine (tests pass a stand-in). */
export interface Engine {
  readonly modelId: string;
  /** Values per descriptor (an empty gallery is made with it); default 128. */
  readonly descriptorSize?: number;
  identifyFaces(image: Uint8Array, gallery: Gallery): Promise<FrameAnalysis>;
}

export interface RecognitionDeps extends Deps {
  engine?: () => Promise<Engine>;
  gallery?: (modelId: string) => Promise<Gallery>;
}

interface Loaded {
  engine: Engine;
  loadMs: number;
}

/** A downloaded frame, or why it could not be (bad input: reported as a frame error). */
type FrameBytes = { key: string; bytes: Uint8Array } | { key: string; error: Error };

/** One frame at a time (the engine uses the cores); a frame that is not a decodable image is a
 * frame error, not a failed batch. */
async function analyseFrames(
  images: FrameBytes[],
  engine: Engine,
  gallery: Gallery,
  context: FacerecContext,
  facesPerFrame: number,
): Promise<FrameResult[]> {
  const frames: FrameResult[] = [];
  for (const img of images) {
    // Abandoned (local mode): stop between frames.
    context.abortSignal?.throwIfAborted();
    const tf = performance.now();
    if ('error' in img) {
      frames.push({ key: img.key, faces: [], error: { type: img.error.name, message: img.error.message } });
      continue;
    }
    try {
      const analysis = await engine.identifyFaces(img.bytes, gallery);
      frames.push({
        key: img.key,
        width: analysis.width,
        height: analysis.height,
        ...compactFaces(analysis, facesPerFrame),
        ms: Math.round(performance.now() - tf),
      });
    } catch (err) {
      const e = classifyError(err);
      if (e.name !== ErrorName.BadInput) throw err;
      context.log.warn('frame skipped', { key: img.key, reason: e.message });
      frames.push({ key: img.key, faces: [], error: { type: (err as Error).name, message: e.message } });
    }
  }
  return frames;
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
  const currentGallery = async (engine: Engine): Promise<{ gallery: Gallery; id: string }> => {
    if (deps.gallery) {
      const gallery = await deps.gallery(engine.modelId);
      return { gallery, id: galleryId(gallery) };
    }
    source ??= gallerySource(galleryLocationOf(resolve().config), () => resolve().s3);
    return source.current(engine.modelId, engine.descriptorSize ?? DESCRIPTOR_SIZE);
  };

  return wrapHandler<RecognitionInput, RecognitionOutput>(
    {
      fn: 'recognition',
      schema: RecognitionInputSchema,
      logKeys: (e) => ({ execution: e.execution, video: e.video, batch: e.batch }),
      logLevel: () => resolve().config.pipeline.logLevel,
    },
    async (input, context: FacerecContext) => {
      const t0 = performance.now();
      const { s3 } = resolve();
      const wasLoaded = loaded !== undefined;
      const { engine, loadMs } = await load();
      const { gallery, id: gid } = await currentGallery(engine);

      // Download the batch concurrently, analyse one frame at a time (the engine uses the cores).
      const images = await mapLimit(input.keys, 4, async (key): Promise<FrameBytes> => {
        try {
          return { key, bytes: await getBytes(s3, { bucket: input.bucket, key }, context.abortSignal) };
        } catch (err) {
          const e = classifyError(err);
          if (e.name === ErrorName.BadInput) return { key, error: e };
          throw err;
        }
      });
      const frames = await analyseFrames(
        images,
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
    },
  );
}

export const handler = createHandler();
