import type { Kysely } from 'kysely';
import type { MiddlewareHandler } from 'hono';
import { EdgehookError } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { AppEnv, DeviceRef } from '../http/context.js';
import { findDeviceByRef } from './devices.repository.js';

export type { DeviceRef };

/** A device by id or name; unknown -> NOT_FOUND. The one lookup behind routes and sockets. */
export async function lookupDevice(db: Kysely<Database>, ref: string): Promise<DeviceRef> {
  const row = await findDeviceByRef(db, ref);
  if (!row) throw new EdgehookError('NOT_FOUND', `no device with id or name ${ref}`);
  return { id: row.id, name: row.name, online: row.online === 1, row };
}

/** Refuses an offline device (DEVICE_OFFLINE names it). */
export function requireOnline<D extends Pick<DeviceRef, 'name' | 'online'>>(device: D): D {
  if (!device.online) throw new EdgehookError('DEVICE_OFFLINE', `device ${device.name} is offline`);
  return device;
}

/** Known and online: what shells, processes and containers need. */
export async function onlineDevice(db: Kysely<Database>, ref: string): Promise<DeviceRef> {
  return requireOnline(await lookupDevice(db, ref));
}

/**
 * Resolves `:id` (or `:deviceId`) once and puts it on `c.var.device`; `online` also refuses an
 * offline device. Mounted per route after its permission check, so a caller without the
 * permission learns nothing about which devices exist.
 */
export function deviceMiddleware(db: Kysely<Database>, mode: 'any' | 'online' = 'any'): MiddlewareHandler<AppEnv> {
  return async function deviceMiddlewareHandler(c, next) {
    const ref = c.req.param('id') ?? c.req.param('deviceId') ?? '';
    const device = await lookupDevice(db, ref);
    c.set('device', mode === 'online' ? requireOnline(device) : device);
    await next();
  };
}
