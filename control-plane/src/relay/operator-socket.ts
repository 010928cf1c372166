import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { EdgehookError, type Logger, type RelayServerMessage } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { Principal } from '../auth/authenticator.js';
import { keepAlive, watchSession } from '../events/events.socket.js';
import type { RelayStream } from './stream-relay.js';
import { forwardInput, sendJson } from './ws-bridge.js';

/** How long an operator has to send `open`. */
const OPEN_WAIT_MS = 10_000;
/** Input typed before the stream exists is kept up to this much, then refused. */
const EARLY_INPUT_MAX = 64 * 1024;

export interface OperatorSocket {
  log: Logger;
  send(msg: RelayServerMessage): void;
  /** Reports the error to the operator and closes the socket (once). */
  fail(err: unknown): void;
  /** True once the socket is ending on our side (failed or the stream ended). */
  readonly ending: boolean;
  markEnding(): void;
  /** `open` arrived: stop the open timer. */
  opened(): void;
  /** Input before the stream exists: kept (bounded) for `flushEarly`. */
  keepEarly(data: Buffer): void;
  flushEarly(stream: RelayStream): void;
}

/**
 * The plumbing every relayed operator socket (shell, serial console, exec) shares: logging, error
 * frames, the open deadline, bounded early input, session revocation and keep-alive.
 */
export function operatorSocket(
  deps: { db: Kysely<Database>; log: Logger },
  ws: WebSocket,
  principal: Principal,
  opts: { part: string; device: string; failClose: (err: EdgehookError) => [number, string]; onClose: (endingOnOurSide: boolean) => void },
): OperatorSocket {
  const log = deps.log.child({ part: opts.part, user: principal.username, device: opts.device });
  let ending = false;
  let early: Buffer[] = [];
  let earlyBytes = 0;
  const send = (msg: RelayServerMessage): void => sendJson(ws, msg);
  const fail = (raw: unknown): void => {
    if (ending) return;
    const err = raw instanceof EdgehookError ? raw : new EdgehookError('INTERNAL', raw instanceof Error ? raw.message : String(raw));
    ending = true;
    send({ type: 'error', code: err.code, message: err.message });
    ws.close(...opts.failClose(err));
  };
  const openTimer = setTimeout(() => fail(new EdgehookError('BAD_REQUEST', 'no open message received')), OPEN_WAIT_MS);
  ws.once('close', () => {
    clearTimeout(openTimer);
    opts.onClose(ending);
  });
  ws.on('error', (err) => log.debug(`${opts.part} socket error`, { err }));
  watchSession(deps, ws, principal);
  keepAlive(ws);
  return {
    log,
    send,
    fail,
    get ending() {
      return ending;
    },
    markEnding: () => {
      ending = true;
    },
    opened: () => clearTimeout(openTimer),
    keepEarly(data) {
      if (earlyBytes + data.length > EARLY_INPUT_MAX) return send({ type: 'error', code: 'BAD_REQUEST', message: 'too much input before the stream opened' });
      early.push(data);
      earlyBytes += data.length;
    },
    flushEarly(stream) {
      for (const chunk of early) forwardInput(ws, stream, chunk);
      early = [];
      earlyBytes = 0;
    },
  };
}
