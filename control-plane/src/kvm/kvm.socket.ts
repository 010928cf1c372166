import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { decodeJson, EdgehookError, KvmClientFrame, KvmKeyEvent, validate, type HwEvent, type HwSnapshot, type Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { can, type Principal } from '../auth/authenticator.js';
import { keepAlive } from '../events/events.socket.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { callHardware, findTarget, type DeviceRef } from '../hardware/device-hardware.js';
import type { HardwareEvents } from '../hardware/hardware-events.js';

/** Above this many unsent bytes the client is too slow: skip state frames (a later one supersedes them). */
const MAX_BUFFERED = 1024 * 1024;

export interface KvmSocketDeps {
  db: Kysely<Database>;
  rpc: RpcClient;
  hwEvents: HardwareEvents;
  log: Logger;
}

const EVENT_TYPES: Record<HwEvent['kind'], string> = { gpio: 'gpio_state', atx: 'atx_state', hid: 'hid_state' };

function bundle(s: HwSnapshot): [string, unknown][] {
  const frames: [string, unknown][] = [['gpio_model_state', s.gpioModel]];
  for (const [k, v] of Object.entries(s.info)) frames.push([`info_${k}_state`, v]);
  frames.push(['gpio_state', s.gpio], ['hid_state', s.hid], ['atx_state', s.atx], ['loop', {}]);
  return frames;
}

/**
 * kvmd's `/api/ws` for one device at `/kvm/:device/api/ws`: the state bundle, `loop`, then state
 * changes as the agent reports them; `ping` -> `pong`; `key` events drive the device's keyboard
 * (with devices.hardware.write), and keys still held when the socket closes are released.
 */
function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // malformed %-escapes: looked up as written, so it is simply not found
  }
}

/** `rawDevice` is the path segment as sent (still %-encoded). */
export function serveKvmSocket(deps: KvmSocketDeps, ws: WebSocket, principal: Principal, rawDevice: string): void {
  const deviceRef = decodeSegment(rawDevice);
  const log = deps.log.child({ part: 'kvm-ws', user: principal.username, device: deviceRef });
  const canType = can(principal, 'devices.hardware.write');
  const held = new Set<string>();
  let device: DeviceRef | undefined;
  let live = false;
  const early: HwEvent[] = [];
  let unsubscribe: (() => void) | undefined;
  // Key events go to the agent one after another, in the order the client sent them.
  let keys: Promise<unknown> = Promise.resolve();

  const send = (eventType: string, event: unknown, droppable: boolean): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (droppable && ws.bufferedAmount > MAX_BUFFERED) return;
    ws.send(JSON.stringify({ event_type: eventType, event }));
  };
  const forward = (e: HwEvent): void => send(EVENT_TYPES[e.kind], e.state, true);

  const start = async (): Promise<void> => {
    const d = await findTarget(deps.db, deviceRef);
    device = d;
    // Subscribed before the snapshot so nothing that changes meanwhile is lost.
    unsubscribe = deps.hwEvents.subscribe(d.id, (e) => (live ? forward(e) : early.push(e)));
    if (ws.readyState !== ws.OPEN) return unsubscribe();
    const snapshot = await callHardware(deps.rpc, d, 'hw.snapshot', {});
    for (const [type, event] of bundle(snapshot)) send(type, event, false);
    live = true;
    for (const e of early.splice(0)) forward(e);
  };

  const onKey = (event: unknown): void => {
    const k = validate(KvmKeyEvent, event);
    if (!k.ok || !device || !canType) return;
    const target = device;
    if (k.value.state) held.add(k.value.key);
    else held.delete(k.value.key);
    keys = keys
      .then(() => callHardware(deps.rpc, target, 'hid.key', { key: k.value.key, state: k.value.state }))
      .catch((err: unknown) => log.debug('key event failed', { err }));
  };

  ws.on('message', (raw, isBinary) => {
    if (isBinary) return;
    const frame = decodeJson(KvmClientFrame, raw.toString());
    if (!frame.ok) return;
    if (frame.value.event_type === 'ping') send('pong', {}, false);
    else if (frame.value.event_type === 'key') onKey(frame.value.event);
  });
  ws.once('close', () => {
    unsubscribe?.();
    if (device && held.size > 0) {
      const target = device;
      keys.then(() => callHardware(deps.rpc, target, 'hid.releaseAll', {})).catch((err: unknown) => log.debug('release on close failed', { err }));
    }
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
