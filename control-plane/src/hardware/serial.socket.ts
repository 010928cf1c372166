import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { decodeJson, EdgehookError, SerialClientMessage, type Logger, type RelayServerMessage } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { Principal } from '../auth/authenticator.js';
import { keepAlive, watchSession } from '../events/events.socket.js';
import type { RelayStream, StreamRelay } from '../relay/stream-relay.js';
import { asBuffer, forwardInput, onlineDevice, sendJson, sendWithCredit } from '../relay/ws-bridge.js';

export interface SerialSocketDeps {
  db: Kysely<Database>;
  relay: StreamRelay;
  log: Logger;
}

/** How long the operator has to send `open`. */
const OPEN_WAIT_MS = 10_000;

/**
 * `/api/devices/:id/serial`: a serial console of the device's board, relayed like a shell.
 * Text frames are JSON control (SerialClientMessage in, RelayServerMessage out); binary frames
 * are the line's bytes both ways. The port is released when the socket closes.
 */
export function serveSerialSocket(deps: SerialSocketDeps, ws: WebSocket, principal: Principal, rawDevice: string): void {
  let deviceRef = rawDevice;
  try {
    deviceRef = decodeURIComponent(rawDevice);
  } catch {
    // malformed %-escapes: looked up as written (and not found)
  }
  const log = deps.log.child({ part: 'serial', user: principal.username, device: deviceRef });
  let stream: RelayStream | undefined;
  let closing = false;
  // Bytes typed between `open` and the port being open are kept (bounded) and sent once it is.
  let early: Buffer[] = [];
  let earlyBytes = 0;
  const send = (msg: RelayServerMessage): void => sendJson(ws, msg);
  const fail = (err: EdgehookError): void => {
    send({ type: 'error', code: err.code, message: err.message });
    closing = true;
    ws.close(1011, err.code === 'DEVICE_OFFLINE' ? 'device offline' : 'serial console failed');
  };
  const openTimer = setTimeout(() => fail(new EdgehookError('BAD_REQUEST', 'no open message received')), OPEN_WAIT_MS);

  const open = async (msg: Extract<SerialClientMessage, { type: 'open' }>): Promise<void> => {
    const device = await onlineDevice(deps.db, deviceRef);
    if (ws.readyState !== ws.OPEN) return;
    const spec = { ...(msg.port ? { port: msg.port } : {}), ...(msg.baud ? { baud: msg.baud } : {}) };
    const s = deps.relay.open(device.id, 'serial', spec, {
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
    const info = await s.opened;
    send({ type: 'opened', info });
    for (const chunk of early) forwardInput(ws, s, chunk);
    early = [];
    earlyBytes = 0;
    log.info('serial console opened', info);
  };

  ws.on('message', (raw, isBinary) => {
    const data = asBuffer(raw);
    if (isBinary) {
      if (stream && !stream.done && early.length === 0) forwardInput(ws, stream, data);
      else if (!stream || !stream.done) {
        if (earlyBytes + data.length > 64 * 1024) return send({ type: 'error', code: 'BAD_REQUEST', message: 'too much input before the port opened' });
        early.push(data);
        earlyBytes += data.length;
      }
      return;
    }
    const decoded = decodeJson(SerialClientMessage, data);
    if (!decoded.ok) return send({ type: 'error', code: 'BAD_REQUEST', message: `bad control frame: ${decoded.error}` });
    const msg = decoded.value;
    if (msg.type === 'open') {
      if (stream) return send({ type: 'error', code: 'CONFLICT', message: 'this socket already has a serial console open' });
      clearTimeout(openTimer);
      open(msg).catch((err: unknown) => fail(err instanceof EdgehookError ? err : new EdgehookError('INTERNAL', String(err))));
    } else stream?.cancel();
  });
  ws.once('close', () => {
    clearTimeout(openTimer);
    // A serial port is a shared line: leaving releases it (nothing to reattach to).
    if (stream && !stream.done && !closing) stream.cancel();
  });
  ws.on('error', (err) => log.debug('serial socket error', { err }));
  watchSession(deps, ws, principal);
  keepAlive(ws);
}
