/**
 * A local stack in a child process, for the kill -9 test (test/infra/local/crash.test.ts): the real
 * starter, Step Functions service, journal and result function; stand-ins for the splitter and
 * recognition (no ffmpeg or models: the "person" of a video is `Person-<stem>`). Settings from the
 * environment (FACEREC_LOCAL_DIR, ports 0); CRASH_SPLIT_MS: the splitter's time per video;
 * CRASH_SLOW_STARTER_PREFIX: uploads whose key starts with it wait 60 s in the starter (their
 * event is lost when the process is killed); CRASH_SLOW_STARTER_AFTER=n: every upload after the
 * first n waits so; CRASH_CONTENT=1: the "person" of a video is its content (contentSplitter), so
 * that the answer tells which upload of a key it is of. Prints one JSON line once the stack is up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import { createHandler as starterHandler } from '../../functions/starter/handler.js';
import { loadConfig } from '../../functions/config.js';
import { startLocalStack, type LocalStack } from '../../infra/local/stack.js';
import { s3Client } from '../../functions/aws/clients.js';
import {
  contentRecognition,
  contentSplitter,
  standInRecognition,
  standInSplitter,
} from './stand-in-functions.js';

const splitMs = Number(process.env.CRASH_SPLIT_MS ?? '200');
const slowPrefix = process.env.CRASH_SLOW_STARTER_PREFIX;
const slowAfter = process.env.CRASH_SLOW_STARTER_AFTER;
let starterCalls = 0;
const byContent = process.env.CRASH_CONTENT === '1';
let realStarter: ReturnType<typeof starterHandler> | undefined;
// Handlers run before startLocalStack returns (resumed executions): no reference to `stack` in them.
const stage1 = loadConfig().pipeline.buckets.stage1;
let stackStarted: (s: LocalStack) => void = () => undefined;
const stackReady = new Promise<LocalStack>((resolve) => (stackStarted = resolve));

const stack = await startLocalStack({
  advertise: true,
  env: { FACEREC_LOG_LEVEL: 'SILENT', FACEREC_PROFILE: 'cse546-p2' },
  handlers: {
    starter: async (event: unknown, context: Context) => {
      // Uploads reach the starter as SQS messages holding the S3 notification, as on AWS.
      const body = (event as { Records?: Array<{ body?: string }> }).Records?.[0]?.body;
      const key = body
        ? (JSON.parse(body) as { Records?: Array<{ s3: { object: { key: string } } }> }).Records?.[0]?.s3
            .object.key
        : undefined;
      starterCalls++;
      if (slowPrefix !== undefined && key?.startsWith(slowPrefix)) await sleep(60_000);
      if (slowAfter !== undefined && starterCalls > Number(slowAfter)) await sleep(60_000);
      const { config } = await stackReady;
      realStarter ??= starterHandler({ config });
      return realStarter(event, context);
    },
    splitter: byContent
      ? contentSplitter({
          splitMs,
          frameBucket: stage1,
          s3: async () => s3Client((await stackReady).config.pipeline.aws),
        })
      : standInSplitter({ splitMs, frameBucket: stage1 }),
    recognition: byContent ? contentRecognition : standInRecognition,
  },
});
stackStarted(stack);
process.stdout.write(
  `${JSON.stringify({
    ready: true,
    s3: stack.info.s3Endpoint,
    sfn: stack.info.sfnEndpoint,
    stateMachineArn: stack.info.stateMachineArn,
    resumed: stack.recovery.resumed.map((r) => r.name),
    reconciled: stack.recovery.reconcile?.started.map((s) => s.key) ?? [],
    reconcileError: stack.recovery.reconcileError,
  })}\n`,
);
const stop = () => void stack.stop(0).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
