import { nodeCrypto } from '@edgehook/shared/node-builtins';
import { EDGEHOOK_LABELS, type ContainerSpec, type DeclaredServer, type PlanStep } from '@edgehook/shared';
import type { RuntimeContainer, RuntimeCreateSpec } from './container-runtime.js';
import { checkHostAccess, DENY_ALL, hostPathFor, type HostAccessPolicy } from './host-access.js';

/**
 * Declared servers: a pure planner from the containers that exist to the servers that should
 * (as balena-supervisor's nextStepsForAppUpdate). No I/O: the executor applies the steps.
 */

/** The value of the owner label on everything Edgehook creates. */
export const OWNER = 'edgehook';

/** JSON with object keys sorted, so the hash does not depend on key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A stable hash of what the container is made of (`desired` is a wish, not a container property). */
export function specHash(spec: ContainerSpec | DeclaredServer): string {
  const container: Record<string, unknown> = { ...spec };
  delete container['desired'];
  return nodeCrypto().createHash('sha256').update(canonical(container)).digest('hex').slice(0, 16);
}

/** Maps a spec to the engine's create request, with Edgehook's labels and the data directory bind. */
export function toCreateSpec(spec: ContainerSpec, opts: { dataDir: string; declared: boolean; hostAccess?: HostAccessPolicy | undefined }): RuntimeCreateSpec {
  // Nothing on the host beyond the data directory unless the agent's flags allow it.
  const hostAccess = opts.hostAccess ?? DENY_ALL;
  checkHostAccess(spec, hostAccess);
  const binds: RuntimeCreateSpec['binds'] = [];
  if (spec.dataMount !== null) binds.push({ source: opts.dataDir, target: spec.dataMount, readOnly: false });
  for (const v of spec.volumes) binds.push({ source: hostPathFor(v.source, opts.dataDir, hostAccess), target: v.target, readOnly: v.readOnly });
  return {
    name: spec.name,
    image: spec.image,
    ...(spec.cmd ? { cmd: spec.cmd } : {}),
    ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}),
    env: spec.env,
    ports: spec.ports.map((p) => ({ container: p.container, host: p.host, protocol: p.protocol, ...(p.hostIp ? { hostIp: p.hostIp } : {}) })),
    binds,
    restartPolicy: spec.restartPolicy,
    ...(spec.memoryBytes !== undefined ? { memoryBytes: spec.memoryBytes } : {}),
    ...(spec.cpus !== undefined ? { nanoCpus: Math.round(spec.cpus * 1e9) } : {}),
    labels: {
      ...spec.labels,
      [EDGEHOOK_LABELS.owner]: OWNER,
      [EDGEHOOK_LABELS.server]: spec.name,
      [EDGEHOOK_LABELS.declared]: opts.declared ? 'true' : 'false',
      [EDGEHOOK_LABELS.specHash]: specHash(spec),
    },
    tty: spec.tty,
    openStdin: true,
    ...(spec.workingDir !== undefined ? { workingDir: spec.workingDir } : {}),
    stopTimeoutSec: spec.stopTimeoutSec,
    ...(spec.privileged ? { privileged: true } : {}),
    ...(spec.networkMode ? { networkMode: spec.networkMode } : {}),
    ...(spec.pidMode ? { pidMode: spec.pidMode } : {}),
    ...(spec.devices?.length ? { devices: spec.devices.map((d) => ({ host: d.host, container: d.container ?? d.host, permissions: d.permissions })) } : {}),
    ...(spec.capAdd?.length ? { capAdd: spec.capAdd } : {}),
  };
}

const RUNNING_STATES = new Set(['running', 'restarting']);
const byName = (a: PlanStep, b: PlanStep): number => (a.server < b.server ? -1 : a.server > b.server ? 1 : 0);

/**
 * Steps from `current` (all containers the engine lists) to `desired`. Only containers Edgehook
 * owns as declared servers are touched; foreign and ad-hoc containers are left alone, and a
 * declared name taken by one of them is left for the create step to report.
 * Order: removes, then recreates and creates, then stops and starts; by server name within each.
 */
export function planServers(current: RuntimeContainer[], desired: DeclaredServer[], hash: (spec: DeclaredServer) => string = specHash): PlanStep[] {
  const owned = new Map<string, RuntimeContainer>();
  const removes: PlanStep[] = [];
  for (const c of current) {
    if (c.labels[EDGEHOOK_LABELS.owner] !== OWNER || c.labels[EDGEHOOK_LABELS.declared] !== 'true') continue;
    const server = c.labels[EDGEHOOK_LABELS.server] ?? c.name;
    // Two containers claiming one server (a crash mid-recreate): keep one, remove the other.
    if (owned.has(server)) removes.push({ action: 'remove', server, containerId: c.id });
    else owned.set(server, c);
  }
  const wanted = new Map<string, DeclaredServer>();
  for (const s of desired) if (!wanted.has(s.name)) wanted.set(s.name, s);
  for (const [server, c] of owned) if (!wanted.has(server)) removes.push({ action: 'remove', server, containerId: c.id });

  const builds: PlanStep[] = [];
  const power: PlanStep[] = [];
  for (const [name, s] of wanted) {
    const c = owned.get(name);
    const run = s.desired === 'running';
    if (!c) {
      builds.push({ action: 'create', server: name });
      if (run) power.push({ action: 'start', server: name });
      continue;
    }
    const want = hash(s);
    const have = c.labels[EDGEHOOK_LABELS.specHash];
    if (have !== want) {
      builds.push({ action: 'recreate', server: name, reason: have ? `spec changed (${have} -> ${want})` : 'container has no spec hash' });
      if (run) power.push({ action: 'start', server: name });
      continue;
    }
    const isRunning = RUNNING_STATES.has(c.state);
    if (run && !isRunning) power.push({ action: 'start', server: name });
    if (!run && isRunning) power.push({ action: 'stop', server: name });
  }
  const idOf = (s: PlanStep): string => (s.action === 'remove' ? s.containerId : '');
  removes.sort((a, b) => byName(a, b) || (idOf(a) < idOf(b) ? -1 : 1));
  return [...removes, ...builds.sort(byName), ...power.sort(byName)];
}
