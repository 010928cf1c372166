import { type RpcMethod, type RpcParams, type RpcResult } from '@edgehook/shared';
import type { RpcClient } from '../devices/rpc.client.js';
import { requireOnline } from '../devices/device.middleware.js';
import type { DeviceRef } from '../http/context.js';

/** Base allowance for a hardware call; operations that wait get their own duration on top. */
const BASE_TIMEOUT_MS = 5000;

/** How long a call may take: `wait` operations last as long as the pulse or press they perform. */
export function timeoutFor<M extends RpcMethod>(method: M, params: RpcParams<M>): number {
  const p: Record<string, unknown> = { ...params };
  const waits = p['wait'] === true;
  if (method === 'gpio.pulse' && waits) return BASE_TIMEOUT_MS + 1000 * Math.max(10, Number(p['delay'] ?? 0));
  if ((method === 'atx.click' || method === 'atx.power') && waits) return BASE_TIMEOUT_MS + 30_000;
  if (method === 'hid.print') {
    const perKey = typeof p['delaySec'] === 'number' ? 2 * 1000 * p['delaySec'] + 10 : p['slow'] === true ? 50 : 10;
    return BASE_TIMEOUT_MS + String(p['text'] ?? '').length * perKey;
  }
  if (method === 'hid.shortcut') return BASE_TIMEOUT_MS + 100 * (Array.isArray(p['keys']) ? p['keys'].length : 16);
  if (method === 'serial.exchange') return BASE_TIMEOUT_MS + Number(p['readMs'] ?? 0);
  return BASE_TIMEOUT_MS;
}

/** Calls a hardware method on an online device (offline -> DEVICE_OFFLINE, with the device named). */
export async function callHardware<M extends RpcMethod>(rpc: RpcClient, device: Pick<DeviceRef, 'id' | 'name' | 'online'>, method: M, params: RpcParams<M>): Promise<RpcResult<M>> {
  requireOnline(device);
  return rpc.call(device.id, method, params, { timeoutMs: timeoutFor(method, params) });
}
