/**
 * Permission strings as in the Encedeus spec: roles carry a list of them.
 * `*` grants everything; `devices.*` grants every permission under `devices.`.
 */
export const Permissions = [
  'devices.read',
  'devices.enroll',
  'devices.write',
  'devices.delete',
  'devices.ping',
  'devices.shell',
  'devices.exec',
  'devices.exec.arbitrary',
  'devices.hardware.read',
  'devices.hardware.write',
  'devices.power',
  'devices.update',
  'agent.publish',
  // WireGuard: see and (re)issue devices' VPN configs; the hub's private key in hub.conf is its own grant.
  'devices.vpn.read',
  'devices.vpn.write',
  'vpn.hub.secret',
  /** A Quix WSI backend (a device that speaks WSI instead of running our agent) may sign in on /wsi. */
  'devices.backend',
  /** TCP forwards and the HTTP proxy to addresses the device allows. */
  'devices.forward',
  'telemetry.read',
  'perfkit.read',
  'perfkit.configure',
  'perfkit.interact',
  'containers.read',
  'containers.control',
  'containers.console',
  'containers.files',
  'users.read',
  'users.admin',
  'audit.read',
  'jobs.read',
  'jobs.run',
] as const;

export type Permission = (typeof Permissions)[number];

/** True when a granted pattern (`*`, `devices.*`, or an exact string) covers `wanted`. */
export function grantCovers(granted: string, wanted: string): boolean {
  if (granted === '*' || granted === wanted) return true;
  if (granted.endsWith('.*')) return wanted.startsWith(granted.slice(0, -1));
  return false;
}

export function hasPermission(granted: readonly string[], wanted: Permission): boolean {
  return granted.some((g) => grantCovers(g, wanted));
}

/** Valid grant strings: a known permission, `*`, or a prefix wildcard of known permissions. */
export function isValidGrant(grant: string): boolean {
  if (grant === '*') return true;
  if (grant.endsWith('.*')) {
    const prefix = grant.slice(0, -1);
    return Permissions.some((p) => p.startsWith(prefix));
  }
  return (Permissions as readonly string[]).includes(grant);
}
