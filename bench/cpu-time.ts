/**
 * CPU seconds of this process (all threads) and of its waited-for children, from /proc/self/stat
 * (Linux; elsewhere children count 0): what the throughput benchmark and its floor's extractor
 * charge to the work they time. A child counts once it has exited and been waited for.
 */
import { readFileSync } from 'node:fs';

export interface CpuTime {
  self: number;
  children: number;
}

export function cpuSeconds(): CpuTime {
  const self = process.cpuUsage();
  let children = 0;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of stat(5) (cutime, cstime), in clock ticks (100 per second on Linux).
    children = (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    /* not Linux */
  }
  return { self: (self.user + self.system) / 1e6, children };
}

/** CPU seconds used since `a` (a cpuSeconds() reading). */
export function cpuSince(a: CpuTime): CpuTime {
  const b = cpuSeconds();
  return { self: b.self - a.self, children: b.children - a.children };
}
