/** Runs statemachine/pipeline.asl.json in the interpreter with stand-in functions. */
import { loadDefinition } from '#infra/local/sfn/load-definition.js';
import { LocalFunction, type LambdaHandler } from '#infra/local/lambda/service.js';
import { LocalStepFunctions, type ExecutionRecord } from '#infra/local/sfn/service.js';
import { LocalEventBus, PUT_EVENTS_RESOURCE } from '#infra/local/events.js';
import { runExecution } from '#test/support/sfn-run.js';

export type Fn = (event: any) => unknown | Promise<unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Harness {
  sfn: LocalStepFunctions;
  events: LocalEventBus;
  functions: { splitter: LocalFunction; recognition: LocalFunction; result: LocalFunction };
  run(input: unknown, name?: string): Promise<ExecutionRecord>;
  calls(fn: 'splitter' | 'recognition' | 'result'): unknown[];
}

/** An error as a function throws it (the name is what the state machine matches). */
export function fnError(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

export function harness(
  impl: { splitter: Fn; recognition: Fn; result: Fn },
  opts: {
    mapMaxConcurrency?: number;
    retryIntervalMs?: number;
    timeoutSeconds?: Partial<Record<string, number>>;
    /** Replaces the local PutEvents (e.g. to make it fail). */
    putEvents?: (input: unknown) => Promise<unknown>;
    /** Journal the executions there (a second harness on it resumes them). */
    journalDir?: string;
    maxJournalBytes?: number;
  } = {},
): Harness {
  const calls: Record<string, unknown[]> = { splitter: [], recognition: [], result: [] };
  const events = new LocalEventBus();
  const make = (name: 'splitter' | 'recognition' | 'result') =>
    new LocalFunction({
      name: `facerec-${name}`,
      timeoutSeconds: opts.timeoutSeconds?.[name] ?? 30,
      concurrency: 4,
      handler: (async (event: unknown) => {
        calls[name].push(event);
        return impl[name](event);
      }) as LambdaHandler,
    });
  const functions = { splitter: make('splitter'), recognition: make('recognition'), result: make('result') };
  const sfn = new LocalStepFunctions({
    definition: loadDefinition({
      SplitterFunctionArn: functions.splitter.arn,
      RecognitionFunctionArn: functions.recognition.arn,
      ResultFunctionArn: functions.result.arn,
      MapMaxConcurrency: opts.mapMaxConcurrency ?? 4,
      EventBusName: 'default',
    }),
    name: 'facerec-pipeline',
    functions: Object.values(functions),
    retryIntervalMs: opts.retryIntervalMs ?? 0,
    services: { [PUT_EVENTS_RESOURCE]: opts.putEvents ?? events.putEvents },
    journalDir: opts.journalDir,
    maxJournalBytes: opts.maxJournalBytes,
  });
  let n = 0;
  return {
    sfn,
    events,
    functions,
    calls: (fn) => calls[fn],
    run: (input, name = `exec-${++n}`) => runExecution(sfn, input, name),
  };
}

export const VIDEO = { bucket: 'facerec-input', key: 'test_00.mp4', size: 100, etag: 'e1', sequencer: '01' };

export function splitOutput(keys: string[][], key = VIDEO.key) {
  return {
    video: { bucket: VIDEO.bucket, key, stem: key.replace(/\.[^.]+$/, '') },
    frameBucket: 'facerec-stage-1',
    frameCount: keys.flat().length,
    batches: keys,
    split: {
      profile: 'default',
      ffmpeg: 'ffmpeg test',
      timings: { downloadMs: 1, ffmpegMs: 1, uploadMs: 1, totalMs: 3 },
    },
  };
}

export function recognitionOutput(event: { keys: string[]; batch: number }, name = 'Penny') {
  return {
    batch: event.batch,
    frames: event.keys.map((key) => ({
      key,
      width: 640,
      height: 480,
      faces: [{ box: { x: 1, y: 2, width: 3, height: 4 }, score: 0.9, name, distance: 0.3 }],
      facesTotal: 1,
    })),
    modelId: 'm',
    galleryId: 'g',
    timings: { totalMs: 5 },
  };
}
