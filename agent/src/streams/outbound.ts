import { STREAM_CHUNK_MAX } from '@edgehook/shared';

/** A message this big means bulk output is flowing; the next one may wait BULK_DELAY_MS to fill up. */
const BULK_BYTES = 4096;
// 5 ms, not 2: in a `yes` flood it cut the CPU per relayed MB by a quarter on both sides with the
// same throughput (BENCHMARKS.md, "Bulk output delay"); an echo never waits (its message is small).
const BULK_DELAY_MS = 5;

/**
 * Device -> control plane bytes with credit-based flow control. Writes are coalesced until the
 * next turn of the event loop (no timer: a keystroke echo leaves at once, a flood leaves in
 * 64 KB messages), and never more than `window` bytes are unacknowledged: beyond that the
 * source is told to pause (write returns false) and resumes on `onDrain`.
 */
export class Outbound {
  private readonly queue: Array<{ channel: number; chunks: Buffer[]; size: number }> = [];
  private queued = 0;
  private inflight = 0;
  private scheduled = false;
  private sentTotal = 0;
  private readonly drainListeners = new Set<() => void>();
  private idleWaiters: Array<() => void> = [];
  private stopped = false;
  private lastPublish = 0;

  constructor(
    private window: number,
    private readonly publish: (payload: Buffer) => void,
  ) {}

  get sent(): number {
    return this.sentTotal;
  }

  /** False when the caller should pause its source until `onDrain`. */
  write(data: Buffer, channel: number): boolean {
    if (this.stopped || data.length === 0) return !this.stopped;
    const last = this.queue[this.queue.length - 1];
    if (last && last.channel === channel && last.size < STREAM_CHUNK_MAX) {
      last.chunks.push(data);
      last.size += data.length;
    } else {
      this.queue.push({ channel, chunks: [data], size: data.length });
    }
    this.queued += data.length;
    this.schedule();
    return this.queued + this.inflight < this.window;
  }

  onDrain(listener: () => void): () => void {
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  ack(bytes: number): void {
    const wasBlocked = this.queued + this.inflight >= this.window;
    this.inflight = Math.max(0, this.inflight - bytes);
    this.flush();
    if (wasBlocked && this.queued + this.inflight < this.window) for (const l of this.drainListeners) l();
  }

  /** Resolves once everything written has been published (not necessarily acked). */
  whenFlushed(): Promise<void> {
    if (this.queued === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.queued = 0;
    this.drainListeners.clear();
    for (const w of this.idleWaiters) w();
    this.idleWaiters = [];
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      this.flush();
    };
    // Interactive output (an echo, a prompt) leaves on the next turn; while a flood is running
    // (the last message was big) wait BULK_DELAY_MS so messages fill up: fewer, larger publishes.
    if (this.lastPublish >= BULK_BYTES) setTimeout(run, BULK_DELAY_MS);
    else setImmediate(run);
  }

  private flush(): void {
    while (!this.stopped && this.queue.length > 0 && this.inflight < this.window) {
      const head = this.queue[0];
      if (!head) break;
      const joined = head.chunks.length === 1 ? (head.chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(head.chunks);
      const take = Math.min(joined.length, STREAM_CHUNK_MAX, this.window - this.inflight);
      const part = joined.subarray(0, take);
      const rest = joined.subarray(take);
      if (rest.length > 0) {
        head.chunks = [rest];
        head.size = rest.length;
      } else {
        this.queue.shift();
      }
      this.queued -= take;
      this.inflight += take;
      this.sentTotal += take;
      const payload = Buffer.allocUnsafe(take + 1);
      payload[0] = head.channel;
      part.copy(payload, 1);
      this.publish(payload);
      this.lastPublish = take;
    }
    if (this.queued === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
