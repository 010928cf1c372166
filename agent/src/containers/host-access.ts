import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { EdgehookError, type ContainerSpec } from '@edgehook/shared';

/**
 * What the device's owner lets containers reach on the host: bind mounts, privileged mode, the
 * host's network and PID namespaces, device nodes and extra capabilities are each root on the
 * device, so each is off unless the agent was started with the flag that allows it.
 */
export interface HostAccessPolicy {
  /** `--container-host-paths`: host directories (and what is below them) bind mounts may use. */
  hostPaths: string[];
  /** `--container-privileged`. */
  privileged: boolean;
  /** `--container-host-network`. */
  hostNetwork: boolean;
  /** `--container-host-pid`. */
  hostPid: boolean;
  /** `--container-devices`: device nodes (or `all`) containers may be given. */
  devices: string[] | 'all';
  /** `--container-capabilities`: capabilities (or `all`) containers may add. */
  capabilities: string[] | 'all';
}

export const DENY_ALL: HostAccessPolicy = { hostPaths: [], privileged: false, hostNetwork: false, hostPid: false, devices: [], capabilities: [] };

/** The path with symlinks resolved as far as it exists (Docker follows them on the host). */
function real(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return resolve(path);
  }
}

const within = (path: string, dir: string): boolean => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/** Resolves a volume source to its host path, or throws naming the flag that would allow it. */
export function hostPathFor(source: string, dataDir: string, policy: HostAccessPolicy): string {
  if (!isAbsolute(source)) {
    const path = resolve(dataDir, source);
    const rel = relative(dataDir, path);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new EdgehookError('FORBIDDEN', `volume source ${source} escapes the server's data directory`);
    // A symlink the container left in its data directory must not lead the bind out of it.
    const resolved = real(path);
    if (!within(resolved, real(dataDir))) throw new EdgehookError('FORBIDDEN', `volume source ${source} leads out of the server's data directory (a symlink to ${resolved})`);
    return path;
  }
  const resolved = real(source);
  const allowed = policy.hostPaths.map(real).some((dir) => within(resolved, dir));
  if (!allowed) {
    throw new EdgehookError(
      'FORBIDDEN',
      `host path ${source}${resolved !== source ? ` (${resolved})` : ''} may not be mounted: start the agent with --container-host-paths ${resolved} (or a parent directory) to allow it`,
    );
  }
  return source;
}

const capName = (c: string): string => c.toUpperCase().replace(/^CAP_/, '');

/** Refuses what the policy does not allow, naming the agent flag that would. */
export function checkHostAccess(spec: ContainerSpec, policy: HostAccessPolicy): void {
  const refuse = (what: string, flag: string): never => {
    throw new EdgehookError('FORBIDDEN', `${what} is refused on this device: start the agent with ${flag} to allow it`);
  };
  if (spec.privileged && !policy.privileged) refuse('a privileged container', '--container-privileged on');
  if (spec.networkMode === 'host' && !policy.hostNetwork) refuse("the host's network namespace", '--container-host-network on');
  if (spec.pidMode === 'host' && !policy.hostPid) refuse("the host's PID namespace", '--container-host-pid on');
  for (const d of spec.devices ?? []) {
    if (policy.devices !== 'all' && !policy.devices.includes(d.host)) refuse(`device ${d.host}`, `--container-devices ${d.host}`);
  }
  for (const c of spec.capAdd ?? []) {
    if (policy.capabilities !== 'all' && !policy.capabilities.map(capName).includes(capName(c))) refuse(`capability ${capName(c)}`, `--container-capabilities ${capName(c)}`);
  }
}
