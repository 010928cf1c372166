import type { Logger } from '@edgehook/shared';
import { AsyncQueue } from './async-queue.js';
import type { Attachment, ContainerRuntime, OutputChunk } from './container-runtime.js';

/** Output chunks a console may hold unread before the shared engine read pauses. */
const SUBSCRIBER_HIGH_WATER = 256;

export interface ConsoleSession {
  readonly output: AsyncIterable<OutputChunk>;
  write(data: Buffer): Promise<void>;
  /** Leaves the console; the container's attachment (and its stdin) stays open. */
  close(): void;
}

interface Shared {
  att: Attachment;
  subscribers: Set<{ queue: AsyncQueue<OutputChunk>; paused: boolean }>;
  paused: number;
  wake: Array<() => void>;
  ended: boolean;
}

/**
 * One engine attachment per running container, shared by every console (as Wings attaches once per
 * server). Closing an attachment closes the container's stdin on Podman (a `while read` loop or a
 * game server's console then sees EOF and exits), so a console leaving never closes it: it ends
 * when the container stops. A slow console pauses the shared read instead of growing memory.
 */
export class ConsoleHub {
  private readonly shared = new Map<string, Promise<Shared>>();

  constructor(private readonly deps: { runtime: ContainerRuntime; log: Logger }) {}

  /** Joins the console of container `id` (the engine id, so names and ids share one attachment). */
  async join(id: string, retried = false): Promise<ConsoleSession> {
    let pending = this.shared.get(id);
    if (!pending) {
      const holder: { p?: Promise<Shared> } = {};
      const p = this.attach(id, holder);
      holder.p = p;
      pending = p;
      this.shared.set(id, p);
      p.catch(() => {
        if (this.shared.get(id) === p) this.shared.delete(id);
      });
    }
    const s = await pending;
    // The container stopped between the attach and now: attach again (a stopped one ends at once).
    if (s.ended && !retried) return this.join(id, true);
    const sub = { queue: new AsyncQueue<OutputChunk>(() => pause(), () => resume(), SUBSCRIBER_HIGH_WATER), paused: false };
    const pause = (): void => {
      if (sub.paused) return;
      sub.paused = true;
      s.paused++;
    };
    const resume = (): void => {
      if (!sub.paused) return;
      sub.paused = false;
      s.paused--;
      if (s.paused === 0) for (const w of s.wake.splice(0)) w();
    };
    s.subscribers.add(sub);
    if (s.ended) sub.queue.end();
    return {
      output: sub.queue,
      write: (data) => s.att.write(data),
      close: () => {
        s.subscribers.delete(sub);
        resume();
        sub.queue.end();
      },
    };
  }

  /** Closes every attachment (agent shutdown). */
  closeAll(): void {
    for (const [id, pending] of this.shared) {
      this.shared.delete(id);
      void pending.then((s) => s.att.close(), () => undefined);
    }
  }

  private async attach(id: string, holder: { p?: Promise<Shared> }): Promise<Shared> {
    const att = await this.deps.runtime.attach(id);
    const s: Shared = { att, subscribers: new Set(), paused: 0, wake: [], ended: false };
    void (async () => {
      try {
        for await (const chunk of att.output) {
          for (const sub of s.subscribers) sub.queue.push(chunk);
          while (s.paused > 0) await new Promise<void>((r) => s.wake.push(r));
        }
      } catch (err) {
        this.deps.log.debug('console attachment ended', { id, err });
      } finally {
        // The container stopped (or the engine went away): every console ends.
        s.ended = true;
        if (this.shared.get(id) === holder.p) this.shared.delete(id);
        for (const sub of s.subscribers) sub.queue.end();
        s.subscribers.clear();
        att.close();
      }
    })();
    return s;
  }
}
