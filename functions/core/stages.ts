/**
 * The pipeline's observable stages and metrics, and the neutral hook through which the cores
 * report their stages. A core wraps a stage's work in `stage(name, work)` and knows nothing
 * more: the functions' observability
 * (functions/aws/observability.ts) installs an observer that traces the stage (an X-Ray
 * subsegment on AWS) and records its duration as a metric (CloudWatch EMF on AWS; the same lines
 * collected into the data folder in local mode). With no observer installed (the CLI, tests), a
 * stage just runs.
 *
 * Plain values and one module-level observer only: the CDK stack's dashboard and `facerec
 * metrics` read the names from here.
 */

/** Timed stages: each ffmpeg run (probe, extraction), the recognition engine's decode, detection,
 * description (landmarks and descriptor nets) and gallery match, and the result's write. */
export const TIMED_STAGES = ['ffmpeg', 'decode', 'detect', 'describe', 'match', 'result'] as const;
export type TimedStage = (typeof TIMED_STAGES)[number];

/** The metric that records a stage's duration (milliseconds), e.g. `DetectDuration`. */
export function stageMetric(stage: TimedStage): string {
  return `${stage[0].toUpperCase()}${stage.slice(1)}Duration`;
}

/** Counted metrics (a count per invocation that saw them). */
export const COUNT_METRICS = {
  /** Videos answered (a result written). */
  videos: 'Videos',
  /** Videos that ended with an error record. */
  videosFailed: 'VideosFailed',
  /** Frames analysed in answered videos. */
  frames: 'Frames',
  /** Faces found in those frames. */
  faces: 'Faces',
  /** Faces that matched nobody in the gallery. */
  unknownFaces: 'UnknownFaces',
} as const;

/** Powertools' cold-start metric (one per new execution environment). */
export const COLD_START_METRIC = 'ColdStart';

/** The CloudWatch namespace of a deployment's metrics: one per bucket prefix, so that two stacks
 * in one account (a course profile beside the default) keep their figures apart. */
export function metricsNamespace(bucketPrefix: string): string {
  return `Facerec/${bucketPrefix}`;
}

/** What the functions' observability does with a stage. */
export interface StageObserver {
  /** Runs `work` as the stage `name` (traced, timed). */
  run<T>(name: TimedStage, work: () => Promise<T>): Promise<T>;
}

let observer: StageObserver | undefined;

/** Installs the process's observer (undefined: none). */
export function observeStages(o: StageObserver | undefined): void {
  observer = o;
}

/** Runs `work` as the stage `name`, observed when an observer is installed. */
export function stage<T>(name: TimedStage, work: () => Promise<T>): Promise<T> {
  return observer ? observer.run(name, work) : work();
}
