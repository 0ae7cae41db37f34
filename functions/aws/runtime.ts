/**
 * Per-process state of a function: the configuration (read from the environment at the first
 * invocation, as a Lambda container does) and the SDK clients (their calls traced on AWS:
 * observability.ts). Handlers take overrides for tests.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { loadConfig, type Config } from '../config.js';
import { s3Client, sfnClient } from './clients.js';
import { tracedClient } from './observability.js';

export interface Deps {
  config?: Config;
  s3?: S3Client;
  sfn?: SFNClient;
}

export interface Resolved {
  config: Config;
  s3: S3Client;
  sfn: SFNClient;
}

/** Resolve dependencies lazily and once: the first call reads the environment. */
export function lazyDeps(deps: Deps = {}): () => Resolved {
  let resolved: Resolved | undefined;
  return () => {
    if (!resolved) {
      const config = deps.config ?? loadConfig();
      resolved = {
        config,
        get s3() {
          return deps.s3 ?? tracedClient(s3Client(config.pipeline.aws), config.pipeline.observability);
        },
        get sfn() {
          return deps.sfn ?? tracedClient(sfnClient(config.pipeline.aws), config.pipeline.observability);
        },
      };
    }
    return resolved;
  };
}
