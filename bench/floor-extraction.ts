/**
 * The floor's ffmpeg part (bench/throughput.ts): `extractFrames` run in a small child process, as
 * the splitter's execution environment runs it. Starting ffmpeg costs its parent a copy of the
 * parent's memory map (fork): from the benchmark's own process, which holds the face engine and the
 * bench videos' setup, that copy costs several times what it costs the splitter, and would count as
 * ffmpeg's time.
 *
 * `startExtractor()` forks this file (through tsx); each `extract` returns the frames, the wall time
 * and the CPU time of the extraction (the child's own and ffmpeg's, from the kernel's accounting).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { extractFrames } from '../functions/core/ffmpeg/extract.js';
import { cpuSeconds, cpuSince } from './cpu-time.js';

type ExtractRequest = Parameters<typeof extractFrames>[0];

interface Extracted {
  frames: Awaited<ReturnType<typeof extractFrames>>['frames'];
  wallMs: number;
  /** CPU seconds: this child's (spawning ffmpeg) and ffmpeg's. */
  cpuS: number;
}

type Reply = { id: number; ok: Extracted } | { id: number; error: string };

interface Extractor {
  extract(req: ExtractRequest): Promise<Extracted>;
  /** Ends the child and waits for its exit: its CPU (and its ffmpegs') then stops counting in
   * this process's children's time, which the burst measures next. */
  close(): Promise<void>;
}

export function startExtractor(): Extractor {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--extractor'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const waiting = new Map<number, { resolve: (e: Extracted) => void; reject: (e: Error) => void }>();
  child.on('message', (m: Reply) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if ('ok' in m) w?.resolve(m.ok);
    else w?.reject(new Error(m.error));
  });
  const exited = new Promise<void>((resolve) =>
    child.on('exit', () => {
      for (const w of waiting.values()) w.reject(new Error('the extractor process ended'));
      waiting.clear();
      resolve();
    }),
  );
  return {
    extract: (req) =>
      new Promise<Extracted>((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject });
        child.send({ id, req });
      }),
    close: async () => {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

if (process.argv.includes('--extractor')) {
  process.on('message', (m: { id: number; req: ExtractRequest }) => {
    void (async () => {
      try {
        const c0 = cpuSeconds();
        const t0 = performance.now();
        const extraction = await extractFrames(m.req);
        const wallMs = performance.now() - t0;
        const cpu = cpuSince(c0);
        process.send!({
          id: m.id,
          ok: { frames: extraction.frames, wallMs, cpuS: cpu.self + cpu.children },
        } satisfies Reply);
      } catch (err) {
        process.send!({ id: m.id, error: (err as Error).message } satisfies Reply);
      }
    })();
  });
}
