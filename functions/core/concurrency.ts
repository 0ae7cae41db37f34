/** Small concurrency helpers (no dependencies). */

/** AWS requests (S3, Step Functions) one caller sends at once when it works through a list of
 * objects or executions: enough to hide the round trip, well within the SDK's socket pool (50)
 * and the services' request rates. */
export const AWS_REQUESTS_AT_ONCE = 8;

/** Run `fn` over `items` with at most `limit` at a time; results in input order. The first
 * rejection rejects the whole (the other workers finish their current item). */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** A FIFO semaphore: `run(fn)` waits for a free slot. A `signal` that aborts while the call still
 * waits takes it out of the line (it rejects with the signal's reason and `fn` never runs). */
export class Semaphore {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  get running(): number {
    return this.active;
  }
  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.active >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', leave);
          resolve();
        };
        const leave = () => {
          const i = this.queue.indexOf(grant);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal!.reason);
        };
        this.queue.push(grant);
        signal?.addEventListener('abort', leave, { once: true });
      });
    } else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** Wait for `promise`, but no longer than `ms`; true when it settled in time. The timer is
 * cleared either way (nothing left pending). */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
