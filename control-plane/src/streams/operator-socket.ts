import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { EdgehookError, type Logger, type RelayServerMessage, type StreamKindName, type StreamSpecInput } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { Principal } from '../auth/authenticator.js';
import { keepAlive } from '../http/socket-keep-alive.js';
import type { RelayStream, StreamRelay } from './stream-relay.js';
import { forwardInput, sendJson, sendWithCredit } from './ws-bridge.js';

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
  /** Sends input kept from before the stream existed (see `input`). */
  flushEarly(stream: RelayStream): void;
  /**
   * Opens a terminal-like byte stream (shell, serial console): output goes to this socket as
   * binary frames under credit, `opened` and `end` as JSON, early input follows, the end closes the
   * socket with 1000. Returns at once so the caller holds the stream before it opens.
   */
  openBytes<K extends StreamKindName>(relay: StreamRelay, deviceId: string, kind: K, spec: StreamSpecInput<K>): RelayStream<K>;
  /** A binary frame from the operator: kept (bounded) until the stream exists, then forwarded. */
  input(stream: RelayStream | undefined, data: Buffer): void;
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
  // Revoked (logout, user deleted, permission removed): the work ends with the socket; a shell is
  // cancelled on the device rather than left detached for a reattach.
  let revokedStream: RelayStream | undefined;
  ws.once('revoked', (reason: string) => {
    log.info(`${opts.part} socket revoked`, { reason });
    ending = true;
    clearTimeout(openTimer);
    if (revokedStream && !revokedStream.done) revokedStream.cancel();
  });
  keepAlive(ws);
  const keepEarly = (data: Buffer): void => {
    if (earlyBytes + data.length > EARLY_INPUT_MAX) return send({ type: 'error', code: 'BAD_REQUEST', message: 'too much input before the stream opened' });
    early.push(data);
    earlyBytes += data.length;
  };
  const flushEarly = (stream: RelayStream): void => {
    for (const chunk of early) forwardInput(ws, stream, chunk);
    early = [];
    earlyBytes = 0;
  };
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
    flushEarly,
    openBytes(relay, deviceId, kind, spec) {
      const s = relay.open(deviceId, kind, spec, {
        onData: (data) => sendWithCredit(ws, s, data, data.length, true),
        onNotice: (message) => send({ type: 'notice', message }),
        onEnd: (result) => {
          send({ type: 'end', result });
          ending = true;
          ws.close(1000);
        },
        onError: fail,
      });
      revokedStream = s;
      flushEarly(s);
      // Attached first, so `opened` reaches the operator before anything awaiting it runs.
      s.opened.then(
        (info) => send({ type: 'opened', info: info ?? {} }),
        () => undefined,
      );
      return s;
    },
    input(stream, data) {
      if (!stream) keepEarly(data);
      else if (!stream.done) forwardInput(ws, stream, data);
    },
  };
}
