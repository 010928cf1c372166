import type { Kysely } from 'kysely';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { ContainerStats, ContainerStreamKinds, decodeJson, EdgehookError, PowerAction, WingsFrame, type Clock, type Logger, type PowerState } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { Principal } from '../auth/authenticator.js';
import { can } from '../auth/authenticator.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { findDeviceByRef } from '../devices/devices.repository.js';
import { keepAlive } from '../http/socket-keep-alive.js';
import type { RelayStream, StreamRelay } from '../streams/stream-relay.js';
import type { LiveSockets } from '../auth/live-sockets.js';
import type { SocketAuditor } from '../auth/upgrade-router.js';
import { verifyConsoleToken } from './console-tokens.js';
import { LineSplitter } from './line-splitter.js';

export interface ConsoleSocketDeps {
  db: Kysely<Database>;
  rpc: RpcClient;
  relay: StreamRelay;
  clock: Clock;
  log: Logger;
  /** Registered once authenticated: the token's session, user, role and device revoke it. */
  sockets: LiveSockets;
  /** Consoles are operator sessions: the first successful auth opens one in the audit log. */
  audit?: SocketAuditor | undefined;
}

/** Wings warns this long before the token expires, so the client can fetch a new one in time. */
const EXPIRING_AHEAD_MS = 60_000;
const AUTH_WAIT_MS = 15_000;
const LOG_REPLAY_LINES = 100;
const SEND_BUFFER_MAX = 1024 * 1024;
/** The console's name in the audit log (`containers.console.open` / `.close`). */
const CONSOLE_AUDIT = 'containers.console';

/**
 * `/api/devices/:id/containers/:ref/ws`: a container console speaking Wings' frames
 * `{"event": ..., "args": [...]}`. The socket opens unauthenticated (as Wings does); the client
 * sends `auth` with a console token from `GET .../websocket` and may re-send it on the same socket.
 * All state is per socket, so any replica can hold any console.
 */
export function serveConsoleSocket(deps: ConsoleSocketDeps, ws: WebSocket, req: IncomingMessage, deviceRef: string, containerRef: string): void {
  const log = deps.log.child({ part: 'console', device: deviceRef, container: containerRef });
  let principal: Principal | undefined;
  let deviceId: string | undefined;
  let expiring: NodeJS.Timeout | undefined;
  let expired: NodeJS.Timeout | undefined;
  let consoleStream: RelayStream | undefined;
  let statsStream: RelayStream | undefined;
  let lastState: PowerState | undefined;
  let closed = false;
  let unregister: (() => void) | undefined;

  const send = (event: string, ...args: string[]): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(args.length ? { event, args } : { event }));
  };
  const daemonError = (err: unknown): void => send('daemon error', err instanceof Error ? err.message : String(err));
  const status = (state: PowerState): void => {
    if (state === lastState) return;
    lastState = state;
    send('status', state);
  };
  const authTimer = setTimeout(() => {
    if (principal) return;
    send('daemon error', 'no auth event received');
    ws.close(4001, 'authentication required');
  }, AUTH_WAIT_MS);

  // Credit goes back to the device only while this client keeps up: a slow reader pauses the
  // container's output on the device instead of growing our memory.
  let owed = 0;
  let drainTimer: NodeJS.Timeout | undefined;
  const credit = (s: RelayStream, bytes: number): void => {
    owed += bytes;
    const settle = (): void => {
      drainTimer = undefined;
      if (ws.readyState === ws.OPEN && ws.bufferedAmount > SEND_BUFFER_MAX) {
        drainTimer = setTimeout(settle, 50);
        return;
      }
      s.consumed(owed);
      owed = 0;
    };
    if (!drainTimer) settle();
  };

  const stopStreams = (): void => {
    consoleStream?.detach();
    statsStream?.detach();
    consoleStream = statsStream = undefined;
  };

  /** Console output as Wings sends it: one `console output` event per line. */
  const openConsole = (id: string): void => {
    if (consoleStream && !consoleStream.done) return;
    const lines = new LineSplitter((line) => send('console output', line));
    const s = deps.relay.open(id, ContainerStreamKinds.console, { ref: containerRef, tail: 0 }, {
      onData: (data) => {
        lines.push(data);
        credit(s, data.length);
      },
      onEnd: () => {
        lines.flush();
        consoleStream = undefined;
        void refresh();
      },
      onError: (err) => {
        consoleStream = undefined;
        if (err.code !== 'CONFLICT') daemonError(err);
      },
    });
    consoleStream = s;
  };
  const openStats = (id: string): void => {
    if (statsStream && !statsStream.done) return;
    const lines = new LineSplitter((line) => {
      const sample = decodeJson(ContainerStats, line);
      if (!sample.ok) return;
      status(sample.value.state);
      send('stats', line);
      // Started by someone else (another console, the CLI, a restart policy): attach to it.
      if (sample.value.state === 'running') openConsole(id);
    });
    const s = deps.relay.open(id, ContainerStreamKinds.stats, { ref: containerRef }, {
      onData: (data) => {
        lines.push(data);
        s.consumed(data.length);
      },
      onEnd: () => {
        statsStream = undefined;
      },
      onError: (err) => {
        statsStream = undefined;
        daemonError(err);
      },
    });
    statsStream = s;
  };

  /** Reads the state from the device and keeps the streams matching it. */
  const refresh = async (): Promise<void> => {
    if (!deviceId || !principal || closed) return;
    try {
      const info = await deps.rpc.call(deviceId, 'containers.inspect', { ref: containerRef }, { timeoutMs: 10_000 });
      status(info.power);
      if (closed || !principal) return;
      // The stats stream runs whatever the state: its samples carry the power state.
      openStats(deviceId);
      if (info.engineState === 'running') openConsole(deviceId);
    } catch (err) {
      daemonError(err);
    }
  };

  const authenticate = async (token: string): Promise<void> => {
    const device = await findDeviceByRef(deps.db, deviceRef);
    if (!device) throw new EdgehookError('NOT_FOUND', `no device ${deviceRef}`);
    const verified = await verifyConsoleToken(deps.db, token, { deviceId: device.id, ref: containerRef }, deps.clock.now());
    if (!verified) {
      deps.audit?.refused(CONSOLE_AUDIT, null, req, device.id, 401);
      throw new EdgehookError('INVALID_CREDENTIALS', 'the token is invalid or expired, or was issued for another console');
    }
    if (!can(verified.principal, 'containers.console')) {
      deps.audit?.refused(CONSOLE_AUDIT, verified.principal, req, device.id, 403);
      throw new EdgehookError('FORBIDDEN', 'your role does not allow container consoles');
    }
    const first = !principal;
    if (first && deps.audit) {
      const closed = deps.audit.opened(CONSOLE_AUDIT, verified.principal, req, device.id);
      ws.once('close', (code) => closed(code));
    }
    principal = verified.principal;
    deviceId = device.id;
    unregister?.();
    unregister = deps.sockets.register({ ws, principal, permission: 'containers.console', deviceId: device.id });
    clearTimeout(authTimer);
    clearTimeout(expiring);
    clearTimeout(expired);
    const left = verified.expiresAt - deps.clock.now();
    expiring = setTimeout(() => send('token expiring'), Math.max(0, left - EXPIRING_AHEAD_MS));
    expired = setTimeout(() => {
      send('token expired');
      principal = undefined;
      stopStreams();
    }, Math.max(0, left));
    send('auth success');
    if (first || !consoleStream) {
      lastState = undefined;
      await refresh();
    }
  };

  const setState = async (action: PowerAction): Promise<void> => {
    if (!deviceId || !principal) return;
    if (!can(principal, 'containers.control')) throw new EdgehookError('FORBIDDEN', 'your role does not allow power actions');
    status(action === 'start' ? 'starting' : 'stopping');
    const info = await deps.rpc.call(deviceId, 'containers.power', { ref: containerRef, action, wait: true }, { timeoutMs: 120_000 });
    status(info.power);
    if (info.engineState === 'running') openConsole(deviceId);
    openStats(deviceId);
  };

  let ready: Promise<void> = Promise.resolve();
  ws.on('message', (raw, isBinary) => {
    if (isBinary) return daemonError('binary frames are not part of the console protocol');
    const decoded = decodeJson(WingsFrame, raw.toString());
    if (!decoded.ok) return daemonError(`bad frame: ${decoded.error}`);
    const { event, args = [] } = decoded.value;
    if (event === 'auth') {
      ready = authenticate(args[0] ?? '').catch((err: unknown) => {
        send('daemon error', `authentication failed: ${err instanceof Error ? err.message : String(err)}`);
        if (!principal) ws.close(4001, 'authentication failed');
      });
      return;
    }
    // Events sent right behind `auth` (a panel sends `send logs` at once) wait until the socket is
    // authenticated and attached, in the order they came.
    void ready.then(() => handle(event, args));
  });

  const handle = (event: string, args: string[]): void => {
    if (closed) return;
    if (!principal || !deviceId) return daemonError(`${event}: send auth with a valid token first`);
    const id = deviceId;
    switch (event) {
      case 'send command':
        if (!consoleStream || consoleStream.done) return daemonError('the server is not running');
        consoleStream.write(Buffer.from(`${args[0] ?? ''}\n`));
        return;
      case 'send logs':
        void deps.rpc
          .call(id, 'containers.logs', { ref: containerRef, tail: LOG_REPLAY_LINES }, { timeoutMs: 10_000 })
          .then((res) => res.lines.forEach((l) => send('console output', l.line)), daemonError);
        return;
      case 'send stats':
        void deps.rpc.call(id, 'containers.stats', { ref: containerRef }, { timeoutMs: 10_000 }).then((s) => send('stats', JSON.stringify(s)), daemonError);
        return;
      case 'set state': {
        const action = PowerAction.safeParse(args[0]);
        if (!action.success) return daemonError(`set state: expected start, stop, restart or kill, got ${String(args[0])}`);
        setState(action.data).catch((err: unknown) => {
          daemonError(err);
          void refresh();
        });
        return;
      }
      default:
        daemonError(`unknown event ${event}`);
    }
  };

  keepAlive(ws);
  ws.on('error', (err) => log.debug('console socket error', { err }));
  ws.once('revoked', (reason: string) => {
    log.info('console socket revoked', { reason });
    closed = true;
    principal = undefined;
    stopStreams();
  });
  ws.once('close', () => {
    closed = true;
    unregister?.();
    clearTimeout(authTimer);
    clearTimeout(expiring);
    clearTimeout(expired);
    clearTimeout(drainTimer);
    stopStreams();
  });
}
