import { StringDecoder } from 'node:string_decoder';
import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { decodeJson, EdgehookError, PowCancelReasons, PowCallFrame, PowSignalFrame, type Logger, type StreamResult } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { Principal } from '../auth/authenticator.js';
import { keepAlive } from '../http/socket-keep-alive.js';
import type { RelayStream, StreamRelay } from '../streams/stream-relay.js';
import { asBuffer, forwardInput, sendWithCredit } from '../streams/ws-bridge.js';
import { onlineDevice } from '../devices/device.middleware.js';

export interface PowSocketDeps {
  db: Kysely<Database>;
  relay: StreamRelay;
  log: Logger;
  /** How long the client has to send its call frame (pow-1: about a second). */
  callTimeoutMs?: number;
}

/** pow-1 result frames carry exactly these fields. */
function powResult(result: StreamResult): { status: 'fulfilled'; value?: unknown } | { status: 'rejected'; reason: string } {
  if (result.status === 'rejected') return { status: 'rejected', reason: result.reason };
  return result.value === undefined ? { status: 'fulfilled' } : { status: 'fulfilled', value: result.value };
}

/**
 * `/api/devices/:id/pow`, Process Over Websocket (pow-1): the first binary frame is `{call, params}`;
 * text frames are input and output (valid UTF-8: each output channel has its own decoder so a
 * character split across chunks is never mangled); binary `{"signal":"close"|"cancel"}`; the end is
 * a binary result frame, then close 1000 with an empty reason.
 */
export function servePowSocket(deps: PowSocketDeps, ws: WebSocket, principal: Principal, deviceRef: string): void {
  const log = deps.log.child({ part: 'pow', user: principal.username, device: deviceRef });
  let stream: RelayStream | undefined;
  let called = false;
  let finished = false;
  // Input that arrives while the device is looked up; afterwards the relay stream holds early input.
  const pendingInput: Buffer[] = [];
  let inputClosed = false;

  const finish = (result: StreamResult): void => {
    if (finished) return;
    finished = true;
    clearTimeout(callTimer);
    if (ws.readyState !== ws.OPEN) return;
    ws.send(Buffer.from(JSON.stringify(powResult(result))), { binary: true });
    ws.close(1000);
  };
  const reject = (reason: string): void => finish({ status: 'rejected', reason });
  const callTimer = setTimeout(() => reject('no call message received in time'), deps.callTimeoutMs ?? 1000);

  const start = async (call: string, params: string[]): Promise<void> => {
    const device = await onlineDevice(deps.db, deviceRef);
    if (finished) return;
    const decoders = new Map<number, StringDecoder>();
    const s = deps.relay.open(device.id, 'process', { call, params }, {
      onData: (data, channel) => {
        let decoder = decoders.get(channel);
        if (!decoder) decoders.set(channel, (decoder = new StringDecoder('utf8')));
        const text = decoder.write(data);
        if (text.length === 0) return s.consumed(data.length);
        sendWithCredit(ws, s, text, data.length, false);
      },
      onEnd: (result) => {
        for (const d of decoders.values()) {
          const rest = d.end();
          if (rest && ws.readyState === ws.OPEN) ws.send(rest);
        }
        finish(result);
      },
      onError: (err) => reject(err.code === 'DEVICE_OFFLINE' ? `device offline: ${err.message}` : err.message),
    });
    stream = s;
    for (const chunk of pendingInput.splice(0)) forwardInput(ws, s, chunk);
    if (inputClosed) s.closeInput();
    await s.opened;
    log.info('pow call started', { call });
  };

  ws.on('message', (raw, isBinary) => {
    if (finished) return;
    const data = asBuffer(raw);
    if (!isBinary) {
      if (!called || inputClosed) return;
      if (stream) forwardInput(ws, stream, data);
      else pendingInput.push(data);
      return;
    }
    if (!called) {
      const decoded = decodeJson(PowCallFrame, data);
      if (!decoded.ok) return reject(`failed to decode call message: ${decoded.error}`);
      called = true;
      clearTimeout(callTimer);
      start(decoded.value.call, decoded.value.params).catch((err: unknown) => reject(err instanceof Error ? err.message : String(err)));
      return;
    }
    const signal = decodeJson(PowSignalFrame, data);
    if (!signal.ok) return; // unknown control frames are ignored
    if (signal.value.signal === 'cancel') {
      if (stream) stream.cancel();
      else reject(PowCancelReasons.clientRequest);
    } else if (!inputClosed) {
      inputClosed = true;
      stream?.closeInput();
    }
  });

  ws.once('close', () => {
    clearTimeout(callTimer);
    // The client went away before the end: the process is cancelled on the device.
    if (stream && !stream.done) stream.detach();
  });
  ws.on('error', (err) => log.debug('pow socket error', { err }));
  keepAlive(ws);
}
