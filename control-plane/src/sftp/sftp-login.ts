import type { Kysely } from 'kysely';
import { hasPermission, ServerName } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { findDeviceByRef } from '../devices/devices.repository.js';
import { findUserByLogin, type UserWithRole } from '../auth/users.repository.js';

/** Who an SFTP connection is, on which server of which device. */
export interface SftpTarget {
  user: UserWithRole;
  deviceId: string;
  server: string;
}

/**
 * `<user>.<server>@<device>` (Wings: `username.serverid`). User names may hold `.` and `@`, server
 * names `.`: the device is after the last `@`, and the user/server split is the first, from the
 * right, that names an existing user and a valid server.
 */
export async function resolveLogin(db: Kysely<Database>, login: string): Promise<Omit<SftpTarget, 'user'> & { user: UserWithRole } | undefined> {
  const at = login.lastIndexOf('@');
  if (at <= 0 || at === login.length - 1 || login.length > 512) return undefined;
  const device = await findDeviceByRef(db, login.slice(at + 1));
  if (!device) return undefined;
  const left = login.slice(0, at);
  for (let dot = left.lastIndexOf('.'); dot > 0; dot = left.lastIndexOf('.', dot - 1)) {
    const server = left.slice(dot + 1);
    if (!ServerName.safeParse(server).success) continue;
    const user = await findUserByLogin(db, left.slice(0, dot));
    if (user) return { user, deviceId: device.id, server };
  }
  return undefined;
}

export const mayUseFiles = (user: UserWithRole): boolean => hasPermission(user.permissions, 'containers.files');
