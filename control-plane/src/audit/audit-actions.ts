/**
 * Which requests are operator actions, and their names in the audit log. Every unsafe method
 * (POST, PUT, PATCH, DELETE) under /api and /kvm is one; reads are not (except socket sessions,
 * recorded by the upgrade router). Names: <area>.<verb>, with the acted-on id as `target`.
 */
export interface Described {
  action: string;
  deviceId: string | null;
  target: string | null;
}

const VERB: Record<string, string> = { POST: 'create', PUT: 'replace', PATCH: 'update', DELETE: 'delete' };

/** `/api/devices/:id/<rest>`: method, pattern over rest, action ($n = group n), group that is the target (0: none). */
const DEVICE_RULES: Array<[string | null, RegExp, string, number]> = [
  ['POST', /^hardware\/gpio\/([^/]+)\/(switch|pulse)$/, 'hardware.gpio.$2', 1],
  ['POST', /^hardware\/atx\/(power|click)$/, 'hardware.atx.$1', 0],
  ['POST', /^hardware\/hid\/(key|print|release)$/, 'hardware.hid.$1', 0],
  ['POST', /^hardware\/serial\/([^/]+)\/exchange$/, 'hardware.serial.exchange', 1],
  ['POST', /^pow\/new$/, 'processes.start', 0],
  ['POST', /^pow\/(input|closeInput|cancel)\/([^/]+)$/, 'processes.$1', 2],
  ['POST', /^processes$/, 'processes.start', 0],
  ['POST', /^processes\/signal$/, 'processes.signal', 0],
  ['POST', /^containers$/, 'containers.create', 0],
  ['DELETE', /^containers\/([^/]+)$/, 'containers.delete', 1],
  ['POST', /^containers\/([^/]+)\/power$/, 'containers.power', 1],
  ['PUT', /^servers$/, 'servers.declare', 0],
  ['POST', /^servers\/plan$/, 'servers.plan', 0],
  [null, /^servers\/([^/]+)\/files\/(rename|delete|mkdir|content)$/, 'containers.files.$2', 1],
  ['POST', /^telemetry\/snapshot$/, 'telemetry.snapshot', 0],
  ['POST', /^ping$/, 'devices.ping', 0],
  ['POST', /^agent\/update$/, 'agent.update', 0],
  ['POST', /^vpn$/, 'vpn.issue', 0],
  // Perfkit: a config edit names scope/key; an interaction names the session.
  ['PUT', /^configs\/([^/]+\/[^/]+)$/, 'perfkit.config.set', 1],
  ['POST', /^sessions\/([^/]+)\/images\/[^/]+\/interactions$/, 'perfkit.interact', 1],
  // Writes through the HTTP proxy (reads are not recorded, as elsewhere); the target is the port.
  [null, /^proxy\/(\d+)(?:\/.*)?$/, 'forward.proxy', 1],
];

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function describeRequest(method: string, path: string): Described | undefined {
  if (!(method in VERB)) return undefined;
  const segs = path.split('/').filter(Boolean).map(decode);
  if (segs[0] === 'kvm') {
    // PiKVM facade: /kvm/<device>/api/<kvmd path>
    const rest = segs.slice(3);
    const deviceId = segs[1] ?? null;
    if (rest[0] === 'auth') return { action: `auth.${rest[1] ?? 'unknown'}`, deviceId, target: 'kvm' };
    return { action: `kvm.${rest.join('.') || 'unknown'}`, deviceId, target: null };
  }
  if (segs[0] !== 'api') return undefined;
  const [, area = '', id, ...rest] = segs;
  switch (area) {
    case 'auth':
      return id === 'login' || id === 'logout' ? { action: `auth.${id}`, deviceId: null, target: null } : undefined;
    case 'users':
    case 'roles':
      return { action: `${area}.${VERB[method]}`, deviceId: null, target: id ?? null };
    case 'enrollment-tokens':
      return { action: method === 'DELETE' ? 'tokens.revoke' : 'tokens.create', deviceId: null, target: id ?? null };
    case 'enroll':
      return { action: id === 'reprovision' ? 'devices.reprovision' : 'devices.enroll', deviceId: null, target: null };
    case 'agent':
      // PUT /api/agent/packages/<version>
      return { action: id === 'packages' && method === 'PUT' ? 'agent.publish' : `agent.${VERB[method]}`, deviceId: null, target: rest[0] ?? null };
    case 'devices': {
      if (rest.length === 0) return { action: `devices.${VERB[method]}`, deviceId: id ?? null, target: null };
      const tail = rest.join('/');
      for (const [m, re, name, targetGroup] of DEVICE_RULES) {
        if (m !== null && m !== method) continue;
        const hit = re.exec(tail);
        if (!hit) continue;
        const action = name.replace(/\$(\d)/g, (_, n: string) => hit[Number(n)] ?? '');
        return { action, deviceId: id ?? null, target: targetGroup > 0 ? (hit[targetGroup] ?? null) : null };
      }
      return { action: `devices.${rest.filter((_, i) => i % 2 === 0).join('.')}.${VERB[method]}`, deviceId: id ?? null, target: null };
    }
    case 'jobs':
      // POST /api/jobs starts one; POST /api/jobs/:id/cancel cancels it.
      return { action: rest[0] === 'cancel' ? 'jobs.cancel' : 'jobs.start', deviceId: null, target: id ?? null };
    default:
      return { action: `${area}.${VERB[method]}`, deviceId: null, target: id ?? null };
  }
}
