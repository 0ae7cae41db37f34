/**
 * A local stack in a child process, for the kill -9 test (test/infra/local/crash.test.ts): the real
 * starter, Step Functions service, journal and result function; stand-ins for the splitter and
 * recognition (no ffmpeg or models: the "person" of a video is `Person-<stem>`). Settings from the
 * environment (FACEREC_LOCAL_DIR, ports 0); CRASH_SPLIT_MS: the splitter's time per video;
 * CRASH_SLOW_STARTER_PREFIX: uploads whose key starts with it wait 60 s in the starter (their
 * event is lost when the process is killed). Prints one JSON line once the stack is up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import { createHandler as starterHandler } from '../../functions/starter/handler.js';
import { loadConfig } from '../../functions/config.js';
import { startLocalStack, type LocalStack } from '../../infra/local/stack.js';
import { standInRecognition, standInSplitter } from './stand-in-functions.js';

const splitMs = Number(process.env.CRASH_SPLIT_MS ?? '200');
const slowPrefix = process.env.CRASH_SLOW_STARTER_PREFIX;
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
      if (slowPrefix && key?.startsWith(slowPrefix)) await sleep(60_000);
      const { config } = await stackReady;
      realStarter ??= starterHandler({ config });
      return realStarter(event, context);
    },
    splitter: standInSplitter({ splitMs, frameBucket: stage1 }),
    recognition: standInRecognition,
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
