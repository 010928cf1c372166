import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { decodeJson, EdgehookError, KvmBinaryOp, KvmClientFrame, KvmStreamKinds, type HwEvent, type HwSnapshot, type Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { can, type Principal } from '../auth/authenticator.js';
import { keepAlive } from '../http/socket-keep-alive.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { callHardware } from '../hardware/device-hardware.js';
import { lookupDevice } from '../devices/device.middleware.js';
import type { DeviceRef } from '../http/context.js';
import type { HardwareEvents } from '../hardware/hardware-events.js';
import type { RelayStream, StreamRelay } from '../streams/stream-relay.js';
import { HidInputPump, parseBinaryHid, parseJsonHid } from './kvm-hid-input.js';
import { classicGpioModel, classicMsd, classicStreamer, currentInfo, KVMD_COMPAT } from './kvm-shapes.js';

/** Above this many unsent bytes the client is too slow: skip state frames (a later one supersedes them). */
const MAX_BUFFERED = 1024 * 1024;

export interface KvmSocketDeps {
  db: Kysely<Database>;
  rpc: RpcClient;
  hwEvents: HardwareEvents;
  log: Logger;
  /** With it, a socket opened with stream=1 (kvmd's default) keeps the device's streamer running. */
  relay?: StreamRelay;
}

type Frame = [string, unknown];

/**
 * Each state under both names: kvmd 4.x's short event first, then the classic `*_state` one
 * (docs/pikvm.md explains why both, and the order).
 */
function eventFrames(e: HwEvent): Frame[] {
  switch (e.kind) {
    case 'gpio':
      return [['gpio', { state: e.state }], ['gpio_state', e.state]];
    case 'atx':
      return [['atx', e.state], ['atx_state', e.state]];
    case 'hid':
      return [['hid', e.state], ['hid_state', e.state]];
    case 'streamer':
      return [['streamer', e.state], ['streamer_state', classicStreamer(e.state)]];
    case 'msd':
      return [['msd', e.state], ['msd_state', classicMsd(e.state)]];
  }
}

function bundle(s: HwSnapshot): Frame[] {
  const frames: Frame[] = [['loop', { version: KVMD_COMPAT }]];
  frames.push(['gpio', { model: s.gpioModel, state: s.gpio }], ['gpio_model_state', classicGpioModel(s.gpioModel)], ['gpio_state', s.gpio]);
  frames.push(['hid', s.hid], ['hid_state', s.hid], ['atx', s.atx], ['atx_state', s.atx]);
  frames.push(['msd', s.msd], ['msd_state', classicMsd(s.msd)], ['streamer', s.streamer], ['streamer_state', classicStreamer(s.streamer)]);
  frames.push(['ocr', { enabled: false, langs: { default: [], available: [] } }]);
  frames.push(['info', currentInfo(s.info)]);
  for (const [k, v] of Object.entries(s.info)) frames.push([`info_${k}_state`, v]);
  frames.push(['switch', { model: { ports: [], units: [] }, summary: { active_port: -1, synced: true } }]);
  frames.push(['hid_keymaps', { keymaps: s.keymaps }], ['clients', { count: s.streamer.streamer?.stream.clients ?? 0 }]);
  // The classic end-of-bundle marker: the seed's clients start their event loop here.
  frames.push(['loop', { version: KVMD_COMPAT }]);
  return frames;
}


/**
 * kvmd's `/api/ws` for one device at `/kvm/:device/api/ws` (and `/api/ws` in host mode): `loop`
 * with the version, every state under its kvmd 4.x and classic names, a closing `loop`, then
 * changes as the agent reports them. JSON `ping` -> `pong`, binary op 0 -> the byte 255. HID
 * input as JSON events or kvmd's binary messages drives the device's keyboard and mouse (with
 * devices.hardware.write); whatever is still held when the socket closes is released.
 */
export function serveKvmSocket(deps: KvmSocketDeps, ws: WebSocket, principal: Principal, deviceRef: string, opts: { stream?: boolean } = {}): void {
  const log = deps.log.child({ part: 'kvm-ws', user: principal.username, device: deviceRef });
  const canType = can(principal, 'devices.hardware.write');
  let device: DeviceRef | undefined;
  let live = false;
  const early: HwEvent[] = [];
  let unsubscribe: (() => void) | undefined;
  let hold: RelayStream | undefined;
  const pump = new HidInputPump((events) =>
    device ? callHardware(deps.rpc, device, 'hid.events', { events }).catch((err: unknown) => log.debug('hid events failed', { err })) : Promise.resolve(),
  );

  const send = (eventType: string, event: unknown, droppable: boolean): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (droppable && ws.bufferedAmount > MAX_BUFFERED) return;
    ws.send(JSON.stringify({ event_type: eventType, event }));
  };
  const forward = (e: HwEvent): void => {
    for (const [type, event] of eventFrames(e)) send(type, event, true);
  };

  const start = async (): Promise<void> => {
    const d = await lookupDevice(deps.db, deviceRef);
    device = d;
    // Subscribed before the snapshot so nothing that changes meanwhile is lost.
    unsubscribe = deps.hwEvents.subscribe(d.id, (e) => (live ? forward(e) : early.push(e)));
    if (ws.readyState !== ws.OPEN) return unsubscribe();
    // kvmd: a session counts as a stream client unless opened with stream=0; the streamer runs while any does.
    if ((opts.stream ?? true) && deps.relay && d.online) {
      hold = deps.relay.open(d.id, KvmStreamKinds.video, { hold: true }, { onData: () => undefined, onEnd: () => undefined, onError: (err) => log.debug('streamer hold failed', { err: err.message }) });
    }
    const snapshot = await callHardware(deps.rpc, d, 'hw.snapshot', {});
    for (const [type, event] of bundle(snapshot)) send(type, event, false);
    live = true;
    for (const e of early.splice(0)) forward(e);
  };

  ws.on('message', (raw, isBinary) => {
    const data = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    if (isBinary) {
      if (data.length === 0) return;
      if (data[0] === KvmBinaryOp.ping) {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.from([KvmBinaryOp.pong]));
        return;
      }
      if (canType && device) pump.push(parseBinaryHid(data));
      return;
    }
    const frame = decodeJson(KvmClientFrame, data.toString());
    if (!frame.ok) return;
    const type = frame.value.event_type;
    if (type === 'ping') return send('pong', {}, false);
    const events = parseJsonHid(type, frame.value.event);
    if (events && canType && device) pump.push(events);
  });
  ws.once('close', () => {
    unsubscribe?.();
    hold?.detach();
    if (!device || (pump.heldKeys.size === 0 && pump.heldButtons.size === 0)) return;
    const target = device;
    pump
      .drained()
      .then(() => callHardware(deps.rpc, target, 'hid.releaseAll', {}))
      .catch((err: unknown) => log.debug('release on close failed', { err }));
  });
  ws.on('error', (err) => log.debug('kvm socket error', { err }));
  keepAlive(ws);
  start().catch((err: unknown) => {
    const e = err instanceof EdgehookError ? err : new EdgehookError('INTERNAL', String(err));
    if (!(err instanceof EdgehookError)) log.error('kvm socket failed to start', { err });
    // kvmd has no error event; say why in the close reason (4000 + HTTP status, like 4404).
    if (ws.readyState === ws.OPEN) ws.close(4000 + e.httpStatus, e.message.slice(0, 120));
  });
}
