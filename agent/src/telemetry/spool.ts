import { appendFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from '@edgehook/shared/zod';
import { decodeJson, TelemetryBatch, type Clock, type Logger } from '@edgehook/shared';

const Count = z.number().check(z.int(), z.nonnegative());
const SpoolState = z.object({
  head: z.nullable(z.string()),
  cursor: z.optional(Count),
  dropped: z.optional(z.object({ batches: Count, samples: Count })),
});

export interface SpoolOptions {
  dir: string;
  /** Total bytes on disk; the oldest segments are dropped beyond it. */
  maxBytes: number;
  /** Batches older than this are dropped. */
  maxAgeMs: number;
  clock: Clock;
  log: Logger;
}

interface Segment {
  name: string;
  bytes: number;
  batches: number;
  samples: number;
  newestTs: number;
}

export interface DropCount {
  batches: number;
  samples: number;
}

const SEGMENT_RE = /^seg-(\d{12})\.jsonl$/;

/**
 * The store-and-forward buffer: batches that could not be published, as JSON lines in segment
 * files under the agent's state dir. Appends go to the newest segment; replay reads the oldest
 * from a persisted cursor. Size and age limits drop whole segments, oldest first, and the drops
 * are counted (persisted) until a later batch reports them.
 */
export class Spool {
  private segments: Segment[] = [];
  private next = 0;
  private cursor = 0;
  private head: { name: string; lines: string[]; parsed: Array<TelemetryBatch | null | undefined> } | undefined;
  private dropped: DropCount = { batches: 0, samples: 0 };
  private chain: Promise<unknown> = Promise.resolve();
  private acksSinceSave = 0;
  private readonly segmentBytes: number;
  /** The highest sequence number found on disk at open (-1: none). */
  highest = -1;

  private constructor(private readonly opts: SpoolOptions) {
    this.segmentBytes = Math.max(4096, Math.min(1024 * 1024, Math.floor(opts.maxBytes / 8)));
  }

  static async open(opts: SpoolOptions): Promise<Spool> {
    const spool = new Spool(opts);
    await spool.load();
    return spool;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    const names = (await readdir(this.opts.dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    for (const name of names) {
      let text = await readFile(join(this.opts.dir, name), 'utf8');
      // A kill mid-append leaves a torn last line: end it, or the next append would be glued to it.
      if (text.length > 0 && !text.endsWith('\n')) {
        await appendFile(join(this.opts.dir, name), '\n');
        text += '\n';
      }
      const seg: Segment = { name, bytes: Buffer.byteLength(text), batches: 0, samples: 0, newestTs: 0 };
      for (const line of text.split('\n')) {
        const b = line ? decodeJson(TelemetryBatch, line) : undefined;
        if (!b?.ok) continue;
        seg.batches++;
        seg.samples += b.value.samples.length;
        seg.newestTs = Math.max(seg.newestTs, b.value.ts);
        this.highest = Math.max(this.highest, b.value.seq);
      }
      this.segments.push(seg);
      this.next = Math.max(this.next, Number(SEGMENT_RE.exec(name)?.[1] ?? 0) + 1);
    }
    // A missing or damaged state file means "replay the head segment from its start": duplicates are
    // harmless (ingest is idempotent by sequence), losses are not.
    const text = await readFile(join(this.opts.dir, 'state.json'), 'utf8').catch(() => undefined);
    const decoded = text === undefined ? undefined : decodeJson(SpoolState, text);
    const state = decoded?.ok ? decoded.value : undefined;
    if (state && state.head === this.segments[0]?.name && state.cursor !== undefined) this.cursor = state.cursor;
    if (state?.dropped) this.dropped = state.dropped;
  }

  private async saveState(): Promise<void> {
    const tmp = join(this.opts.dir, 'state.json.tmp');
    await writeFile(tmp, JSON.stringify({ head: this.segments[0]?.name ?? null, cursor: this.cursor, dropped: this.dropped }));
    await rename(tmp, join(this.opts.dir, 'state.json'));
  }

  /** Batches waiting and bytes on disk. */
  get size(): { batches: number; bytes: number } {
    let batches = 0;
    let bytes = 0;
    for (const s of this.segments) {
      batches += s.batches;
      bytes += s.bytes;
    }
    return { batches: batches - this.cursor, bytes };
  }

  get isEmpty(): boolean {
    return this.size.batches <= 0;
  }

  /** Resolves once every queued write (state, segment removal) has reached the disk. */
  async settled(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  append(batch: TelemetryBatch): Promise<void> {
    return this.serial(async () => {
      const line = JSON.stringify(batch) + '\n';
      const bytes = Buffer.byteLength(line);
      let tail = this.segments.at(-1);
      if (!tail || tail.bytes + bytes > this.segmentBytes) {
        tail = { name: `seg-${String(this.next++).padStart(12, '0')}.jsonl`, bytes: 0, batches: 0, samples: 0, newestTs: 0 };
        this.segments.push(tail);
      }
      await appendFile(join(this.opts.dir, tail.name), line);
      // The head segment's lines are cached for sending: keep the cache in step.
      if (this.head && this.head.name === tail.name) this.head.lines.push(line.slice(0, -1));
      tail.bytes += bytes;
      tail.batches++;
      tail.samples += batch.samples.length;
      tail.newestTs = Math.max(tail.newestTs, batch.ts);
      await this.enforceLimits();
    });
  }

  private async enforceLimits(): Promise<void> {
    const oldest = this.opts.clock.now() - this.opts.maxAgeMs;
    let changed = false;
    while (this.segments.length > 0) {
      const first = this.segments[0];
      if (!first) break;
      const tooBig = this.size.bytes > this.opts.maxBytes && this.segments.length > 1;
      const tooOld = first.newestTs < oldest;
      if (!tooBig && !tooOld) break;
      await this.dropHead(first);
      changed = true;
    }
    if (changed) await this.saveState();
  }

  private async dropHead(seg: Segment): Promise<void> {
    // Lines before the cursor were already delivered; only the rest is lost.
    const lost = seg.batches - this.cursor;
    const lostSamples = this.cursor === 0 ? seg.samples : Math.round((seg.samples * lost) / Math.max(1, seg.batches));
    this.dropped = { batches: this.dropped.batches + lost, samples: this.dropped.samples + lostSamples };
    this.opts.log.warn('telemetry buffer limit reached: dropping the oldest batches', { segment: seg.name, batches: lost });
    await this.removeHead();
  }

  private async removeHead(): Promise<void> {
    const seg = this.segments.shift();
    this.cursor = 0;
    this.head = undefined;
    if (seg) await rm(join(this.opts.dir, seg.name), { force: true });
  }

  /** The oldest waiting batch, without removing it (ack() does, once it was delivered). */
  async peek(): Promise<TelemetryBatch | undefined> {
    for (;;) {
      const [first] = await this.window(1);
      if (first === undefined) return undefined;
      if (first !== null) return first;
      await this.advance(1); // a torn line after a crash: skip it
    }
  }

  /**
   * Up to `n` waiting batches from the oldest on (within the oldest segment), without removing
   * them; a line that does not decode (torn by a crash) is null. `advance(k)` removes the first k.
   */
  window(n: number): Promise<Array<TelemetryBatch | null>> {
    return this.serial(async () => {
      await this.enforceLimits();
      for (;;) {
        const seg = this.segments[0];
        if (!seg) return [];
        if (!this.head || this.head.name !== seg.name) {
          const text = await readFile(join(this.opts.dir, seg.name), 'utf8').catch(() => '');
          this.head = { name: seg.name, lines: text.split('\n').filter(Boolean), parsed: [] };
        }
        const lines = this.head.lines.slice(this.cursor, this.cursor + n);
        if (lines.length === 0) {
          // Fully delivered: the segment can go, unless it is still the one appended to.
          if (this.segments.length === 1) return [];
          await this.removeHead();
          await this.saveState();
          continue;
        }
        const head = this.head;
        return lines.map((line, i) => {
          const at = this.cursor + i;
          const known = head.parsed[at];
          if (known !== undefined) return known;
          const decoded = decodeJson(TelemetryBatch, line);
          return (head.parsed[at] = decoded.ok ? decoded.value : null);
        });
      }
    });
  }

  /** Marks the batch returned by peek() as delivered. */
  ack(): Promise<void> {
    return this.advance(1);
  }

  /** Removes the first `k` batches of the window (delivered and acknowledged). */
  advance(k: number): Promise<void> {
    return this.serial(async () => {
      this.cursor += k;
      const seg = this.segments[0];
      if (seg && this.head && this.cursor >= seg.batches && this.cursor >= this.head.lines.length) {
        await this.removeHead();
        this.acksSinceSave = 0;
        await this.saveState();
      } else if (++this.acksSinceSave >= 10) {
        // A crash re-sends at most this many; the control plane stores each (device, seq) once.
        this.acksSinceSave = 0;
        await this.saveState();
      }
    });
  }

  /** Drops not yet reported; `reported()` clears them once a batch carrying them was delivered. */
  pendingDrops(): DropCount | undefined {
    return this.dropped.batches > 0 ? { ...this.dropped } : undefined;
  }

  reported(count: DropCount): Promise<void> {
    return this.serial(async () => {
      this.dropped = { batches: Math.max(0, this.dropped.batches - count.batches), samples: Math.max(0, this.dropped.samples - count.samples) };
      await this.saveState();
    });
  }
}
