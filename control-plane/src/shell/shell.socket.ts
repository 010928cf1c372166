import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { decodeJson, EdgehookError, ShellClientMessage, type Logger, type RelayServerMessage } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { Principal } from '../auth/authenticator.js';
import { watchSession, keepAlive } from '../events/events.socket.js';
import type { RelayStream, StreamRelay } from '../relay/stream-relay.js';
import { asBuffer, forwardInput, onlineDevice, sendJson, sendWithCredit } from '../relay/ws-bridge.js';

export interface ShellSocketDeps {
  db: Kysely<Database>;
  relay: StreamRelay;
  log: Logger;
}

/** How long the operator has to send `open`. */
const OPEN_WAIT_MS = 10_000;

/**
 * `/api/devices/:id/shell`: one PTY per socket. Binary frames are terminal bytes both ways; text
 * frames are JSON control (ShellClientMessage in, RelayServerMessage out). Closing the socket without
 * `{type:"close"}` leaves the shell detached on the device for a reattach with `session`.
 */
export function serveShellSocket(deps: ShellSocketDeps, ws: WebSocket, principal: Principal, deviceRef: string): void {
  const log = deps.log.child({ part: 'shell', user: principal.username, device: deviceRef });
  let stream: RelayStream | undefined;
  let closing = false;
  const typedAhead: Buffer[] = [];
  const send = (msg: RelayServerMessage): void => sendJson(ws, msg);
  const fail = (err: EdgehookError): void => {
    send({ type: 'error', code: err.code, message: err.message });
    closing = true;
    ws.close(1011, err.code === 'DEVICE_OFFLINE' ? 'device offline' : 'shell failed');
  };
  const openTimer = setTimeout(() => fail(new EdgehookError('BAD_REQUEST', 'no open message received')), OPEN_WAIT_MS);

  const open = async (msg: Extract<ShellClientMessage, { type: 'open' }>): Promise<void> => {
    const device = await onlineDevice(deps.db, deviceRef);
    if (ws.readyState !== ws.OPEN) return;
    const spec = { cols: msg.cols, rows: msg.rows, ...(msg.shell ? { shell: msg.shell } : {}), ...(msg.session ? { attach: msg.session } : {}) };
    const s = deps.relay.open(device.id, 'pty', spec, {
      onData: (data) => sendWithCredit(ws, s, data, data.length, true),
      onNotice: (message) => send({ type: 'notice', message }),
      onEnd: (result) => {
        send({ type: 'end', result });
        closing = true;
        ws.close(1000);
      },
      onError: (err) => fail(err),
    });
    stream = s;
    for (const chunk of typedAhead.splice(0)) forwardInput(ws, s, chunk);
    const info = await s.opened;
    send({ type: 'opened', info });
    log.info('shell opened', { sessionId: info['sessionId'], reattached: info['reattached'] });
  };

  ws.on('message', (raw, isBinary) => {
    const data = asBuffer(raw);
    if (isBinary) {
      // Keys typed before the device answers are kept (a bounded few) and sent once the stream exists.
      if (stream) {
        if (!stream.done) forwardInput(ws, stream, data);
      } else if (typedAhead.reduce((n, b) => n + b.length, 0) < 64 * 1024) typedAhead.push(data);
      return;
    }
    const decoded = decodeJson(ShellClientMessage, data);
    if (!decoded.ok) return send({ type: 'error', code: 'BAD_REQUEST', message: `bad control frame: ${decoded.error}` });
    const msg = decoded.value;
    if (msg.type === 'open') {
      if (stream) return send({ type: 'error', code: 'CONFLICT', message: 'this socket already has a shell; open another socket for another shell' });
      clearTimeout(openTimer);
      open(msg).catch((err: unknown) => fail(err instanceof EdgehookError ? err : new EdgehookError('INTERNAL', String(err))));
    } else if (msg.type === 'resize') stream?.resize(msg.cols, msg.rows);
    else stream?.cancel();
  });
  ws.once('close', () => {
    clearTimeout(openTimer);
    // Without an explicit close the shell stays on the device, detached, for a reattach.
    if (stream && !stream.done && !closing) stream.detach();
  });
  ws.on('error', (err) => log.debug('shell socket error', { err }));
  watchSession(deps, ws, principal);
  keepAlive(ws);
}
