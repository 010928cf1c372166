// Finding 6 of issue 13: containers.control accepted `/` and `/var/run/docker.sock` as volume
// sources (root on the device). Host paths, privileged mode, host network/PID, devices and
// capabilities now each need the agent's consent, and the refusal names the flag.
import { mkdtemp, mkdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ContainerSpec, EdgehookError } from '@edgehook/shared';
import { toCreateSpec } from '../../src/containers/planner.js';
import { DENY_ALL, type HostAccessPolicy } from '../../src/containers/host-access.js';
import { loadAgentConfig } from '../../src/config.js';

const spec = (extra: Record<string, unknown>) => ContainerSpec.parse({ name: 'web', image: 'alpine', ...extra });

function refusal(extra: Record<string, unknown>, policy: HostAccessPolicy, dataDir = '/state/servers/web'): string {
  try {
    toCreateSpec(spec(extra), { dataDir, declared: false, hostAccess: policy });
  } catch (err) {
    assert.instance(err, EdgehookError);
    assert.is((err as EdgehookError).code, 'FORBIDDEN');
    return (err as EdgehookError).message;
  }
  assert.unreachable(`${JSON.stringify(extra)} must be refused`);
  return '';
}

test('by default no host path: / and the Docker socket are refused, naming --container-host-paths', () => {
  assert.match(refusal({ volumes: [{ source: '/', target: '/host' }] }, DENY_ALL), /--container-host-paths \//);
  assert.match(refusal({ volumes: [{ source: '/var/run/docker.sock', target: '/var/run/docker.sock' }] }, DENY_ALL), /--container-host-paths/);
  assert.match(refusal({ volumes: [{ source: '/var/run/docker.sock', target: '/s' }] }, { ...DENY_ALL, hostPaths: ['/srv'] }), /may not be mounted/);
  // Their own data directory (relative sources) needs no flag.
  const ok = toCreateSpec(spec({ volumes: [{ source: 'conf', target: '/etc/app' }] }), { dataDir: '/state/servers/web', declared: false });
  assert.equal(ok.binds.map((b) => b.source), ['/state/servers/web', '/state/servers/web/conf']);
});

test('an allowed directory admits what is below it, not its siblings or a prefix look-alike', () => {
  const policy = { ...DENY_ALL, hostPaths: ['/srv/shared'] };
  const create = toCreateSpec(spec({ volumes: [{ source: '/srv/shared/media', target: '/m', readOnly: true }] }), { dataDir: '/d', declared: false, hostAccess: policy });
  assert.is(create.binds[1]?.source, '/srv/shared/media');
  assert.match(refusal({ volumes: [{ source: '/srv/shared-evil', target: '/x' }] }, policy), /may not be mounted/);
  assert.match(refusal({ volumes: [{ source: '/srv/shared/../../etc', target: '/x' }] }, policy), /may not be mounted/);
});

test('symlinks are followed: a link in an allowed directory or the data directory that points out is refused', async () => {
  const root = await mkdtemp(join(tmpdir(), 'edgehook-hostaccess-'));
  try {
    await mkdir(join(root, 'allowed'));
    await mkdir(join(root, 'data'));
    await symlink('/', join(root, 'allowed', 'escape'));
    await symlink('/etc', join(root, 'data', 'etc-link'));
    assert.match(refusal({ volumes: [{ source: join(root, 'allowed', 'escape'), target: '/x' }] }, { ...DENY_ALL, hostPaths: [join(root, 'allowed')] }), /may not be mounted/);
    assert.match(refusal({ volumes: [{ source: 'etc-link', target: '/x' }] }, DENY_ALL, join(root, 'data')), /leads out of the server's data directory/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('privileged, host network, host PID, devices and capabilities each need their flag', () => {
  assert.match(refusal({ privileged: true }, DENY_ALL), /--container-privileged on/);
  assert.match(refusal({ networkMode: 'host' }, DENY_ALL), /--container-host-network on/);
  assert.match(refusal({ pidMode: 'host' }, DENY_ALL), /--container-host-pid on/);
  assert.match(refusal({ devices: [{ host: '/dev/ttyUSB0' }] }, DENY_ALL), /--container-devices \/dev\/ttyUSB0/);
  assert.match(refusal({ capAdd: ['CAP_SYS_ADMIN'] }, { ...DENY_ALL, capabilities: ['NET_ADMIN'] }), /--container-capabilities SYS_ADMIN/);
  const all: HostAccessPolicy = { hostPaths: [], privileged: true, hostNetwork: true, hostPid: true, devices: ['/dev/ttyUSB0'], capabilities: ['NET_ADMIN'] };
  const create = toCreateSpec(spec({ privileged: true, networkMode: 'host', pidMode: 'host', devices: [{ host: '/dev/ttyUSB0' }], capAdd: ['net_admin'.toUpperCase()] }), { dataDir: '/d', declared: false, hostAccess: all });
  assert.is(create.privileged, true);
  assert.is(create.networkMode, 'host');
  assert.equal(create.devices, [{ host: '/dev/ttyUSB0', container: '/dev/ttyUSB0', permissions: 'rwm' }]);
  assert.equal(create.capAdd, ['NET_ADMIN']);
  // Bridge networking is the default and needs nothing.
  assert.is(toCreateSpec(spec({ networkMode: 'bridge' }), { dataDir: '/d', declared: false }).networkMode, 'bridge');
});

test('agent flags: --container-host-paths and friends parse into the policy; bad values are clear errors', () => {
  const config = loadAgentConfig(['--container-host-paths', '/srv/a,/srv/b', '--container-privileged', 'on', '--container-devices', 'all', '--container-capabilities', 'NET_ADMIN,SYS_TIME'], {});
  assert.equal(config.containerHostAccess, { hostPaths: ['/srv/a', '/srv/b'], privileged: true, hostNetwork: false, hostPid: false, devices: 'all', capabilities: ['NET_ADMIN', 'SYS_TIME'] });
  assert.equal(loadAgentConfig([], {}).containerHostAccess, DENY_ALL);
  assert.throws(() => loadAgentConfig(['--container-host-paths', 'relative/path'], {}), /container-host-paths/);
  assert.throws(() => loadAgentConfig(['--container-privileged', 'maybe'], {}), /container-privileged/);
});

test.run();
