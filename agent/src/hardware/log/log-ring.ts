/**
 * The agent's own log lines, kept in memory (bounded) so `log` with seek/follow can serve them
 * without a log file: the newest `capacity` lines survive, older ones are dropped.
 */
export interface RingLine {
  seq: number;
  ts: number;
  line: string;
}

export class LogRing {
  private readonly lines: RingLine[] = [];
  private seq = 0;

  constructor(
    private readonly capacity = 5000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  push(line: string): void {
    this.lines.push({ seq: ++this.seq, ts: this.now(), line: line.length > 4000 ? line.slice(0, 4000) + '…' : line });
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Lines newer than `seekSec` seconds (0 = all kept) and after `afterSeq`, at most `limit` (the newest). */
  query(opts: { seekSec?: number | undefined; afterSeq?: number | undefined; limit?: number | undefined }): { lines: RingLine[]; lastSeq: number } {
    const since = opts.seekSec ? this.now() - opts.seekSec * 1000 : -Infinity;
    const after = opts.afterSeq ?? 0;
    let lines = this.lines.filter((l) => l.ts >= since && l.seq > after);
    if (opts.limit !== undefined && lines.length > opts.limit) lines = lines.slice(-opts.limit);
    return { lines, lastSeq: this.seq };
  }
}
