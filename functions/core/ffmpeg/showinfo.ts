/**
 * Frame times as ffmpeg reports them: the `showinfo` filter prints, for every frame it passes,
 * its number and its presentation timestamp; with `-copyts` that is the frame's own time in the
 * file (seeking does not shift it). The splitter names and times its frames from these lines, not
 * from the times it asked for: a seek lands on the first frame at or after the time asked, a rate
 * on the first frame at or after each tick, and a variable-rate video has frames where it has them.
 */

/** One frame that passed a showinfo filter. */
export interface ShownFrame {
  /** Which showinfo filter (its position among the graph's showinfo filters: `Parsed_showinfo_<k>`
   * numbers every filter of the graph, so this is the parsed number). */
  filter: number;
  /** 0-based count of frames through that filter. */
  n: number;
  /** Seconds (pts x time base), as in the file when ffmpeg runs with -copyts. */
  timeSec: number;
}

const FRAME_LINE = /^\[Parsed_showinfo_(\d+) @ [^\]]+\] n:\s*(\d+) pts:\s*(-?\d+) pts_time:(\S+)/;
const TIME_BASE_LINE = /^\[Parsed_showinfo_(\d+) @ [^\]]+\] config in time_base: (\d+)\/(\d+)/;

/**
 * Reads ffmpeg's stderr line by line: the frames showinfo passed (exact times from pts and the
 * time base, not the rounded pts_time), and the other lines (kept for error reasons, without the
 * per-frame noise).
 */
export class ShowinfoReader {
  readonly frames: ShownFrame[] = [];
  private readonly timeBases = new Map<number, [number, number]>();
  private partial = '';
  private other: string[] = [];
  private otherBytes = 0;

  constructor(private readonly keepBytes = 16 * 1024) {}

  /** Feed a chunk of stderr. */
  push(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split(/\r?\n|\r/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** The end of stderr. */
  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  /** stderr without showinfo's lines (its tail, as runFfmpeg keeps it). */
  get stderr(): string {
    return this.other.join('\n');
  }

  private line(line: string): void {
    const frame = FRAME_LINE.exec(line);
    if (frame) {
      const filter = Number(frame[1]);
      const tb = this.timeBases.get(filter);
      const pts = Number(frame[3]);
      const timeSec = tb ? (pts * tb[0]) / tb[1] : Number(frame[4]);
      if (Number.isFinite(timeSec)) this.frames.push({ filter, n: Number(frame[2]), timeSec });
      return;
    }
    const tb = TIME_BASE_LINE.exec(line);
    if (tb) {
      if (Number(tb[3]) > 0) this.timeBases.set(Number(tb[1]), [Number(tb[2]), Number(tb[3])]);
      return;
    }
    if (line.startsWith('[Parsed_showinfo_')) return;
    this.other.push(line);
    this.otherBytes += line.length + 1;
    while (this.otherBytes > this.keepBytes && this.other.length > 1) {
      this.otherBytes -= this.other.shift()!.length + 1;
    }
  }
}
