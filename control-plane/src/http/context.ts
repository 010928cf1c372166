import type { Context } from 'hono';

/** Who sent a request or opened a socket, as the authenticator found them. */
export interface Principal {
  userId: string;
  username: string;
  roleId: string;
  roleName: string;
  /** Updated in place when the role changes, so live sockets check the new grants. */
  permissions: string[];
  /** The session a token belongs to; null for per-request password auth. */
  sessionId: string | null;
  /** The role requires a second factor the user has not enrolled: no permission applies until then. */
  totpEnrollmentRequired?: boolean;
}
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
