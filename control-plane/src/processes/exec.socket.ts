import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { decodeJson, EdgehookError, ExecClientMessage, type Logger, type RelayServerMessage } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { can, type Principal } from '../auth/authenticator.js';
import { watchSession, keepAlive } from '../events/events.socket.js';
import type { RelayStream, StreamRelay } from '../relay/stream-relay.js';
import { asBuffer, forwardInput, onlineDevice, sendJson, sendWithCredit } from '../relay/ws-bridge.js';

export interface ExecSocketDeps {
  db: Kysely<Database>;
  relay: StreamRelay;
  log: Logger;
}

const OPEN_WAIT_MS = 10_000;

/**
 * `/api/devices/:id/exec`, what `edgehook exec` speaks: like pow-1 but byte-exact and with stderr
 * kept apart. Text frames are JSON control (ExecClientMessage in, RelayServerMessage out); binary
 * frames are stdin from the client and `[channel byte][bytes]` (1 stdout, 2 stderr) to it.
 * Arbitrary argv needs `devices.exec.arbitrary` on top of `devices.exec`.
 */
export function serveExecSocket(deps: ExecSocketDeps, ws: WebSocket, principal: Principal, deviceRef: string): void {
  const log = deps.log.child({ part: 'exec', user: principal.username, device: deviceRef });
  let stream: RelayStream | undefined;
  let done = false;
  // Input that arrives while the device is looked up; afterwards the relay stream holds early input.
  const pending: Buffer[] = [];
  let inputClosed = false;
  const send = (msg: RelayServerMessage): void => sendJson(ws, msg);
  const fail = (err: EdgehookError): void => {
    if (done) return;
    done = true;
    send({ type: 'error', code: err.code, message: err.message });
    ws.close(1000);
  };
  const openTimer = setTimeout(() => fail(new EdgehookError('BAD_REQUEST', 'no open message received')), OPEN_WAIT_MS);

  const open = async (spec: Record<string, unknown>): Promise<void> => {
    const device = await onlineDevice(deps.db, deviceRef);
    const s = deps.relay.open(device.id, 'process', spec, {
      onData: (data, channel) => {
        const framed = Buffer.allocUnsafe(data.length + 1);
        framed[0] = channel;
        data.copy(framed, 1);
        sendWithCredit(ws, s, framed, data.length, true);
      },
      onEnd: (result) => {
        done = true;
        send({ type: 'end', result });
        ws.close(1000);
      },
      onError: fail,
    });
    stream = s;
    for (const chunk of pending.splice(0)) forwardInput(ws, s, chunk);
    if (inputClosed) s.closeInput();
    const info = await s.opened;
    send({ type: 'opened', info });
  };

  ws.on('message', (raw, isBinary) => {
    if (done) return;
    const data = asBuffer(raw);
    if (isBinary) {
      if (inputClosed) return;
      if (stream) forwardInput(ws, stream, data);
      else pending.push(data);
      return;
    }
    const decoded = decodeJson(ExecClientMessage, data);
    if (!decoded.ok) return send({ type: 'error', code: 'BAD_REQUEST', message: `bad control frame: ${decoded.error}` });
    const msg = decoded.value;
    if (msg.type === 'open') {
      if (stream) return;
      clearTimeout(openTimer);
      let spec: Record<string, unknown>;
      if ('argv' in msg) {
        if (!can(principal, 'devices.exec.arbitrary')) return fail(new EdgehookError('FORBIDDEN', 'your role lacks the permission devices.exec.arbitrary'));
        spec = { argv: msg.argv, ...(msg.cwd ? { cwd: msg.cwd } : {}), ...(msg.env ? { env: msg.env } : {}) };
      } else spec = { call: msg.call, params: msg.params };
      log.info('exec', { what: 'argv' in msg ? msg.argv.join(' ') : msg.call });
      open(spec).catch((err: unknown) => fail(err instanceof EdgehookError ? err : new EdgehookError('INTERNAL', String(err))));
    } else if (msg.type === 'close-input') {
      if (inputClosed) return;
      inputClosed = true;
      stream?.closeInput();
    } else if (stream) stream.cancel();
    else fail(new EdgehookError('BAD_REQUEST', 'cancelled before start'));
  });
  ws.once('close', () => {
    clearTimeout(openTimer);
    if (stream && !stream.done) stream.detach();
  });
  ws.on('error', (err) => log.debug('exec socket error', { err }));
  watchSession(deps, ws, principal);
  keepAlive(ws);
}
