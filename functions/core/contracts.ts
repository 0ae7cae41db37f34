/**
 * The payloads that flow between the starter, the state machine and the functions
 * (statemachine/pipeline.asl.json shapes them). Each handler validates its input against one of
 * these schemas; the CLI reads execution outputs with them.
 */
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SqsRecordSchema, SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import { z } from 'zod';

/** Execution input, written by the starter: one uploaded object version. */
export const VideoObjectSchema = z.object({
  bucket: z.string().min(3),
  key: z.string().min(1),
  size: z.number().int().nonnegative().optional(),
  etag: z.string().optional(),
  versionId: z.string().optional(),
  sequencer: z.string().optional(),
  eventTime: z.string().optional(),
});
export type VideoObject = z.infer<typeof VideoObjectSchema>;

/** One time range of a long video, extracted by one splitter invocation (core/sampling.ts). */
const SegmentSchema = z.object({
  index: z.number().int().nonnegative(),
  of: z.number().int().positive(),
  startSec: z.number().nonnegative(),
  endSec: z.number().positive(),
  periodSec: z.number().positive(),
  /** The container's start time: frame times are relative to it. */
  originSec: z.number(),
  fps: z.number().positive().optional(),
  /** The most frames this segment may give. */
  maxFrames: z.number().int().positive(),
});
export type SegmentSpec = z.infer<typeof SegmentSchema>;

/** What a segment's invocation returns: its frames are in stage-1, their keys and times in `part`. */
export const SegmentOutputSchema = z.object({
  segment: z.number().int().nonnegative(),
  frameCount: z.number().int().nonnegative(),
  part: z.object({ bucket: z.string(), key: z.string() }),
  referenceFramesOnly: z.boolean().optional(),
  timings: z.object({ ffmpegMs: z.number(), uploadMs: z.number(), totalMs: z.number() }),
});
export type SegmentOutput = z.infer<typeof SegmentOutputSchema>;

/** What the segments' Map leaves for a segment that still failed after its retries. */
const FailedSegmentSchema = z.object({
  segment: z.number().int().nonnegative(),
  failed: z.literal(true),
  error: z.string(),
  cause: z.string().optional(),
});
const SegmentOutcomeSchema = z.union([FailedSegmentSchema, SegmentOutputSchema]);
export type SegmentOutcome = z.infer<typeof SegmentOutcomeSchema>;

/** How the frames of a long video were sampled, and how a too long one was handled. */
const SamplingInfoSchema = z.object({
  /** The setting (`10`, `1/s`, …). */
  asked: z.string(),
  /** In words, after spreading (`1 frame a second`). */
  used: z.string(),
  /** Seconds between frames (rate sampling). */
  periodSec: z.number().optional(),
  /** Frames are from [0, endSec) of the video. */
  endSec: z.number().optional(),
  capped: z
    .object({
      rule: z.enum(['spread', 'cap']),
      asked: z.string(),
      wouldTake: z.number(),
      maxFrames: z.number(),
      note: z.string(),
    })
    .optional(),
});
export type SamplingInfo = z.infer<typeof SamplingInfoSchema>;

/** Split task input: the execution input plus the execution id (for logs). A long video's
 * invocations add `segment` (extract one time range) or `segments` (index what they extracted). */
export const SplitInputSchema = z.object({
  video: VideoObjectSchema,
  execution: z.string().optional(),
  segment: SegmentSchema.optional(),
  segments: z.array(SegmentOutcomeSchema).optional(),
  /** With `segments`: the split information of the plan. */
  split: z.record(z.string(), z.unknown()).optional(),
});
export type SplitInput = z.infer<typeof SplitInputSchema>;

const SplitTimingsSchema = z.object({
  downloadMs: z.number(),
  ffmpegMs: z.number(),
  uploadMs: z.number(),
  totalMs: z.number(),
  /** A long video's plan: when splitting began (epoch ms), for the wall time of all its segments. */
  startedAt: z.number().optional(),
});

export const SplitOutputSchema = z.object({
  video: z.object({ bucket: z.string(), key: z.string(), stem: z.string() }),
  frameBucket: z.string(),
  frameCount: z.number().int().nonnegative(),
  /** Frame keys in batches: one Map item per batch. The Map replaces this with its results. */
  batches: z.array(z.array(z.string())),
  split: z.object({
    profile: z.string(),
    ffmpeg: z.string(),
    durationSec: z.number().optional(),
    /** Frames wanted before the caps (max frames, payload budget). */
    requestedFrames: z.number().int().optional(),
    /** Seconds into the video of each frame, in the order of the batches' keys (null: unknown). */
    frameTimesSec: z.array(z.number().nullable()).optional(),
    timings: SplitTimingsSchema,
    sampling: SamplingInfoSchema.optional(),
    /** A long video: how many segments were extracted apart, and those that failed. */
    segments: z.number().int().optional(),
    failedSegments: z.array(FailedSegmentSchema).optional(),
    /** Frames that go through the Distributed Map: their keys and times (the frame list). */
    frameIndex: z.object({ bucket: z.string(), key: z.string() }).optional(),
  }),
  /** Above the inline Map's frame count: the Distributed Map reads the frame keys from S3. */
  frameList: z
    .object({
      bucket: z.string(),
      /** A JSON array of `{ key, timeSec }`, one per frame (the ItemReader's object). */
      key: z.string(),
      /** Frames per child execution (one recognition invocation). */
      batchSize: z.number().int().positive(),
      /** Where the ResultWriter writes the child executions' results. */
      resultsPrefix: z.string(),
    })
    .optional(),
  /** A long video: time ranges for the splitter invocations the state machine fans out. */
  segments: z.array(SegmentSchema).optional(),
});
export type SplitOutput = z.infer<typeof SplitOutputSchema>;

/** A Distributed Map's output with a ResultWriter: where its child executions' results are. */
const MapRunResultsSchema = z.object({
  MapRunArn: z.string(),
  ResultWriterDetails: z.object({ Bucket: z.string(), Key: z.string() }),
});

/** Map item: one batch of frame keys. */
export const RecognitionInputSchema = z.object({
  bucket: z.string().min(3),
  keys: z.array(z.string().min(1)).min(1),
  batch: z.number().int().nonnegative().optional(),
  execution: z.string().optional(),
  video: z.string().optional(),
});
export type RecognitionInput = z.infer<typeof RecognitionInputSchema>;

const FaceResultSchema = z.object({
  box: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }),
  score: z.number(),
  name: z.string(),
  distance: z.number().nullable(),
});
export type FaceResult = z.infer<typeof FaceResultSchema>;

const FrameResultSchema = z.object({
  key: z.string(),
  width: z.number().optional(),
  height: z.number().optional(),
  faces: z.array(FaceResultSchema),
  /** All faces found (at most the faces-per-frame setting are listed: batches.ts compactFaces). */
  facesTotal: z.number().int().optional(),
  /** Of all faces found, those that matched nobody (set when some were left out of `faces`). */
  unknownTotal: z.number().int().optional(),
  ms: z.number().optional(),
  /** The frame could not be analysed (bad input: it does not count as a frame). */
  error: z.object({ type: z.string(), message: z.string() }).optional(),
});
export type FrameResult = z.infer<typeof FrameResultSchema>;

export const RecognitionOutputSchema = z.object({
  batch: z.number().int().nonnegative().optional(),
  frames: z.array(FrameResultSchema),
  modelId: z.string(),
  galleryId: z.string(),
  timings: z.object({ totalMs: z.number(), engineLoadMs: z.number().optional() }),
});
export type RecognitionOutput = z.infer<typeof RecognitionOutputSchema>;

/** What the Map's per-item Catch leaves for a batch that failed after its retries. */
const FailedBatchSchema = z.object({
  batch: z.number().int().nonnegative().optional(),
  keys: z.array(z.string()),
  failed: z.literal(true),
  error: z.string(),
  cause: z.string().optional(),
});

export const BatchOutcomeSchema = z.union([FailedBatchSchema, RecognitionOutputSchema]);
export type BatchOutcome = z.infer<typeof BatchOutcomeSchema>;

/** Result task, normal path. */
const ResultInputSchema = z.object({
  video: SplitOutputSchema.shape.video,
  /** The execution input: the upload this result belongs to (newest upload wins). */
  upload: VideoObjectSchema.optional(),
  split: SplitOutputSchema.shape.split.optional(),
  batches: z.array(BatchOutcomeSchema),
  execution: z.string().optional(),
  startedAt: z.string().optional(),
});
export type ResultInput = z.infer<typeof ResultInputSchema>;

const STAGES = ['split', 'recognition', 'result'] as const;
type Stage = (typeof STAGES)[number];

/** Result task, failure path: write the error record. */
const FailureInputSchema = z.object({
  failure: z.object({ stage: z.enum(STAGES), error: z.string(), cause: z.string().optional() }),
  video: VideoObjectSchema,
  execution: z.string().optional(),
});
export type FailureInput = z.infer<typeof FailureInputSchema>;

/** Result task after the Distributed Map: the batch results are in S3, where its ResultWriter put
 * them (the handler reads them, then goes on as with ResultInput). */
const MapRunResultInputSchema = ResultInputSchema.extend({ batches: MapRunResultsSchema });
export type MapRunResultInput = z.infer<typeof MapRunResultInputSchema>;

export const ResultEventSchema = z.union([FailureInputSchema, ResultInputSchema, MapRunResultInputSchema]);
export type ResultEvent = z.infer<typeof ResultEventSchema>;

/** When a person is seen (core/appearances.ts: the gap rule). */
const IntervalSchema = z.object({
  /** Seconds into the video of the interval's first and last frame (null: frame times unknown). */
  startSec: z.number().nullable(),
  endSec: z.number().nullable(),
  /** Positions (0-based) of those frames among the video's sampled frames (`frames.results` of
   * `<stem>.json`). */
  firstFrame: z.number().int(),
  lastFrame: z.number().int(),
  /** Frames of the interval where the person was recognized. */
  frames: z.number().int(),
});
export type Interval = z.infer<typeof IntervalSchema>;

/** A recognized person: the vote's tally, and (results since issue 20) when they are seen. */
const PersonSchema = z.object({
  name: z.string(),
  weight: z.number(),
  frames: z.number(),
  faces: z.number(),
  bestDistance: z.number().nullable(),
  /** Seconds on screen (null: frame times unknown); people are listed most screen time first. */
  screenTimeSec: z.number().nullable().optional(),
  firstSeenSec: z.number().nullable().optional(),
  lastSeenSec: z.number().nullable().optional(),
  /** When the person is seen, in video order (in the execution output: the first few only). */
  intervals: z.array(IntervalSchema).optional(),
  /** All the person's intervals, when the execution output lists only the first few. */
  intervalsTotal: z.number().int().optional(),
});
export type Person = z.infer<typeof PersonSchema>;

/** Result task output = the execution output of a processed video. */
export const ResultOutputSchema = z.object({
  /** The one name the vote chooses (what `<stem>.txt` holds in the cse546 profiles). */
  name: z.string(),
  /** Everyone recognized, most screen time first (the lines of `<stem>.txt` in the default
   * profile); within a size budget, `peopleTotal` says how many there were when cut. */
  people: z.array(PersonSchema),
  peopleTotal: z.number().int().optional(),
  /** Faces found in the analysed frames; `unknownFaces` of them matched nobody. */
  faces: z.number().int(),
  unknownFaces: z.number().int().optional(),
  frames: z.number().int(),
  framesFailed: z.number().int(),
  bucket: z.string(),
  outputKey: z.string(),
  detailKey: z.string().optional(),
  /** Set when nothing was written: a newer upload of the same key replaced this one (why). */
  superseded: z.string().optional(),
});
export type ResultOutput = z.infer<typeof ResultOutputSchema>;

/** Result task output on the failure path (then the execution fails). */
export interface FailureOutput {
  stage: Stage;
  error: string;
  reason: string;
  bucket: string;
  errorKey: string;
  /** Set when no record was written: a newer upload of the same key replaced this one (why). */
  superseded?: string;
}

/** S3 event notification (the fields the starter reads). */
const S3EventRecordSchema = z.object({
  eventName: z.string(),
  eventTime: z.string().optional(),
  s3: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({
      key: z.string(),
      size: z.number().optional(),
      eTag: z.string().optional(),
      versionId: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});
export type S3EventRecord = z.infer<typeof S3EventRecordSchema>;

const S3NotificationSchema = z.union([
  z.object({ Records: z.array(S3EventRecordSchema) }),
  /** Sent once when a notification is configured. */
  z.object({ Event: z.literal('s3:TestEvent'), Bucket: z.string().optional() }),
]);
export type S3Notification = z.infer<typeof S3NotificationSchema>;

/** The upload queue's messages (AWS and local mode): SQS records as Lambda's SQS event source
 * delivers them (Powertools' schema), each body an S3 notification. Powertools' own S3 schemas are
 * not used for the body: they have no form for the test event, and they reject a record whose
 * sourceIPAddress is IPv6 (a client on a dual-stack endpoint; local mode on an IPv6 loopback). */
export const UploadMessageSchema = SqsRecordSchema.extend({ body: JSONStringified(S3NotificationSchema) });
export type UploadMessage = z.infer<typeof UploadMessageSchema>;

/** What the starter accepts: a batch of the upload queue's messages (their bodies are parsed one
 * by one, so that a malformed one fails alone), or an S3 notification delivered directly. */
export const StarterEventSchema = z.union([SqsSchema, S3NotificationSchema]);
export type StarterEvent = z.infer<typeof StarterEventSchema>;
export type SqsEvent = z.infer<typeof SqsSchema>;
