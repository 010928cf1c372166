import type { WebSocket } from 'ws';
import { EdgehookError } from '@edgehook/shared';

/** Above this many unsent bytes the backend is not reading: new requests are refused, not queued. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

interface Pending {
  req: string;
  resolve: (msg: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Our requests to one authenticated backend socket: a `rid` per request, the reply matched by it,
 * a timeout per request. A reply whose rid nobody waits for (late, duplicate) is dropped.
 */
export class WsiConnection {
  private nextRid = 1;
  private readonly pending = new Map<number, Pending>();
  private closedReason: string | undefined;
  /** When we `execute`d each pid (the seed's list has no start time); bounded. */
  readonly startedAt = new Map<number, number>();

  constructor(
    readonly ws: WebSocket,
    readonly deviceId: string,
    /** Tells the connection from a newer one of the same device (presence, replacement). */
    readonly session: string,
  ) {}

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Sends one frame unless the socket is gone or not draining; false when it was not sent. */
  sendFrame(frame: unknown): boolean {
    if (this.ws.readyState !== this.ws.OPEN || this.ws.bufferedAmount > MAX_BUFFERED_BYTES) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  request(req: string, msg: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closedReason !== undefined) return Promise.reject(new EdgehookError('DEVICE_OFFLINE', `the backend is not connected: ${this.closedReason}`));
    const rid = this.nextRid;
    this.nextRid = this.nextRid >= Number.MAX_SAFE_INTEGER ? 1 : this.nextRid + 1;
    return new Promise((resolve, reject) => {
      if (!this.sendFrame({ req, rid, msg })) {
        reject(new EdgehookError('DEVICE_OFFLINE', 'the backend is not reading its socket'));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(new EdgehookError('DEVICE_TIMEOUT', `the backend did not answer ${req} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(rid, { req, resolve, reject, timer });
    });
  }

  /** True when the reply answered one of our requests. */
  reply(rid: number, msg: unknown): boolean {
    const p = this.pending.get(rid);
    if (!p) return false;
    this.pending.delete(rid);
    clearTimeout(p.timer);
    p.resolve(msg);
    return true;
  }

  /** Ends every request still waiting (socket closed or replaced). */
  close(reason: string): void {
    this.closedReason ??= reason;
    for (const [rid, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new EdgehookError('DEVICE_OFFLINE', `the backend disconnected before answering ${p.req}: ${reason}`));
      this.pending.delete(rid);
    }
  }
}
