import type { Context } from 'hono';
import type { Principal } from '../auth/authenticator.js';
import type { DeviceRow } from '../db/database.js';

/** The device a request acts on, resolved once by the device middleware (devices/device.middleware.ts). */
export interface DeviceRef {
  id: string;
  name: string;
  online: boolean;
  row: DeviceRow;
}

/** What middleware puts on the Hono context for the routes below it (`device`: routes under a device only). */
export type AppEnv = { Variables: { principal: Principal; device: DeviceRef } };
export type AppContext = Context<AppEnv>;
