import type { WebSocket } from 'ws';
import { hasPermission, type Clock, type Permission, type Revocation } from '@edgehook/shared';
import type { Principal } from './authenticator.js';

/** Close codes a revoked socket gets: 4001 credentials gone, 4003 permission gone, 4004 device gone. */
export const RevokedClose = { credentials: 4001, permission: 4003, device: 4004 } as const;
/** A client that ignores our close frame is cut off this long after. */
const TERMINATE_AFTER_MS = 1000;
/** Revocations are remembered this long, for sockets whose authentication was in flight. */
const RECENT_MS = 30_000;

/** Who holds a live connection, and what it was opened for. */
export interface LiveScope {
  principal: Principal;
  /** The permission the connection was opened under (checked again when its role changes). */
  permission?: Permission | undefined;
  deviceId?: string | undefined;
}

export interface LiveSocket extends LiveScope {
  ws: WebSocket;
}

/**
 * Any other long-lived connection (a streamed HTTP response, an SFTP session): `end` cuts it off,
 * and the owner calls the function `registerHandle` returns once it ends by itself.
 */
export interface LiveHandle extends LiveScope {
  end(code: number, reason: string): void;
}

type Tracked = LiveScope & { end(code: number, reason: string): void };

/**
 * The one registry of live operator sockets on this replica, keyed by user, session and device.
 * Revocations (local or from another replica over the bus) close every socket they cover at once;
 * nothing polls. A socket learns it was revoked through the `revoked` event, emitted before the
 * close, so handlers end the work behind it (a PTY is killed, not left detached).
 */
export class LiveSockets {
  private readonly sockets = new Set<Tracked>();
  private recent: { at: number; r: Revocation }[] = [];

  constructor(private readonly clock: Clock) {}

  now(): number {
    return this.clock.now();
  }

  /**
   * `since`: when the credentials were checked. A revocation that came after that (between the
   * check and this call) closes the socket at once, so an in-flight upgrade cannot dodge it.
   */
  register(entry: LiveSocket, since?: number): () => void {
    const { ws, ...scope } = entry;
    const remove = this.track({ ...scope, end: (code, reason) => revokeSocket(ws, code, reason) }, since);
    ws.once('close', remove);
    return remove;
  }

  /** As `register`, for a connection that is not a websocket. Returns the unregister function. */
  registerHandle(entry: LiveHandle, since?: number): () => void {
    return this.track(entry, since);
  }

  private track(entry: Tracked, since: number | undefined): () => void {
    if (since !== undefined) {
      for (const { at, r } of this.recent) {
        const verdict = at >= since ? this.judge(entry, r) : undefined;
        if (verdict) {
          entry.end(verdict.code, verdict.reason);
          return () => undefined;
        }
      }
    }
    this.sockets.add(entry);
    return (): void => {
      this.sockets.delete(entry);
    };
  }

  countForUser(userId: string): number {
    let n = 0;
    for (const s of this.sockets) if (s.principal.userId === userId) n++;
    return n;
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Closes what the revocation covers; returns how many sockets it closed. */
  apply(r: Revocation): number {
    const now = this.clock.now();
    this.recent = this.recent.filter((x) => x.at > now - RECENT_MS);
    this.recent.push({ at: now, r });
    if (this.recent.length > 1000) this.recent.shift();
    let closed = 0;
    for (const s of [...this.sockets]) {
      const verdict = this.judge(s, r);
      if (!verdict) continue;
      this.sockets.delete(s);
      s.end(verdict.code, verdict.reason);
      closed++;
    }
    return closed;
  }

  closeAll(code: number, reason: string): void {
    for (const s of [...this.sockets]) s.end(code, reason);
    this.sockets.clear();
  }

  private judge(s: LiveScope, r: Revocation): { code: number; reason: string } | undefined {
    switch (r.type) {
      case 'session':
        return s.principal.sessionId === r.sessionId ? { code: RevokedClose.credentials, reason: r.reason } : undefined;
      case 'user':
        return s.principal.userId === r.userId ? { code: RevokedClose.credentials, reason: r.reason } : undefined;
      case 'device':
        return s.deviceId === r.deviceId ? { code: RevokedClose.device, reason: r.reason } : undefined;
      case 'role':
        if (s.principal.roleId !== r.roleId) return undefined;
        // Later checks on this socket (a power action on a console) see the new grants too.
        s.principal.permissions = [...r.permissions];
        if (s.permission && !hasPermission(r.permissions, s.permission)) return { code: RevokedClose.permission, reason: `${r.reason}: ${s.permission} was removed` };
        return undefined;
    }
  }
}

/** Tells the handlers (`revoked`), closes with `code`, and terminates a client that does not answer. */
export function revokeSocket(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === ws.CLOSED) return;
  ws.emit('revoked', reason);
  ws.close(code, reason.slice(0, 120));
  setTimeout(() => {
    if (ws.readyState !== ws.CLOSED) ws.terminate();
  }, TERMINATE_AFTER_MS).unref();
}
