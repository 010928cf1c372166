import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EdgehookError } from '@edgehook/shared';
import { resolveDockerSocket, unavailableRuntime } from '../../src/containers/engine-socket.js';
import { splitImage, toRuntimeContainer, toRuntimeEvent } from '../../src/containers/docker-mapping.js';
import { InspectJson } from '../../src/containers/docker-schemas.js';

const none = (): boolean => false;

test('flag wins, then the environment; unix:// is accepted', () => {
  assert.equal(resolveDockerSocket({ flag: '/x.sock', env: { EDGEHOOK_DOCKER_SOCKET: '/y.sock' }, exists: none }), { socket: '/x.sock', tried: ['/x.sock'] });
  assert.is(resolveDockerSocket({ env: { EDGEHOOK_DOCKER_SOCKET: 'unix:///y.sock' }, exists: none }).socket, '/y.sock');
});

test('docker socket first, then podman sockets that exist, else null with every path tried', () => {
  const env = { XDG_RUNTIME_DIR: '/run/user/1000' };
  assert.is(resolveDockerSocket({ env, exists: () => true, uid: 1000 }).socket, '/var/run/docker.sock');
  assert.is(resolveDockerSocket({ env, exists: (p) => p === '/run/podman/podman.sock', uid: 1000 }).socket, '/run/podman/podman.sock');
  assert.is(resolveDockerSocket({ env, exists: (p) => p.startsWith('/run/user/1000/'), uid: 1000 }).socket, '/run/user/1000/podman/podman.sock');
  const missing = resolveDockerSocket({ env: {}, exists: none, uid: 1000 });
  assert.is(missing.socket, null);
  assert.equal(missing.tried, ['/var/run/docker.sock', '/run/podman/podman.sock', '/run/user/1000/podman/podman.sock']);
});

test('the runtime without an engine names the paths tried and how to fix it', async () => {
  const rt = unavailableRuntime(['/var/run/docker.sock', '/run/podman/podman.sock']);
  try {
    await rt.list({ all: true });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, EdgehookError);
    assert.is((err as EdgehookError).code, 'ENGINE_UNAVAILABLE');
    assert.match((err as Error).message, '/var/run/docker.sock, /run/podman/podman.sock');
    assert.match((err as Error).message, '--docker-socket');
  }
});

test('inspect JSON maps to a runtime container: zero times are null, ports from bindings', () => {
  const j = InspectJson.parse({
    Id: 'abc123',
    Name: '/web',
    Created: '2024-01-01T00:00:00.5Z',
    Image: 'sha256:ff',
    State: { Status: 'exited', ExitCode: 3, StartedAt: '2024-01-01T00:00:01Z', FinishedAt: '0001-01-01T00:00:00Z' },
    Config: { Image: 'busybox:latest', Tty: true, Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {}, '53/udp': {} } },
    HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }] } },
  });
  const c = toRuntimeContainer(j);
  assert.equal(c, {
    id: 'abc123', name: 'web', image: 'busybox:latest', state: 'exited', status: 'Exited (3)', labels: { a: 'b' },
    createdAt: Date.parse('2024-01-01T00:00:00.5Z'), startedAt: Date.parse('2024-01-01T00:00:01Z'), finishedAt: null, exitCode: 3, tty: true,
    ports: [{ container: 80, host: 8080, protocol: 'tcp' }, { container: 53, host: null, protocol: 'udp' }],
  });
  assert.is(toRuntimeContainer(InspectJson.parse({ Id: 'x', State: { Status: 'configured' }, Config: null })).state, 'created');
});

test('events: die carries the exit code, podman remove is destroy, other types and junk are dropped', () => {
  assert.equal(toRuntimeEvent('{"Type":"container","Action":"die","Actor":{"ID":"c1","Attributes":{"exitCode":"3"}},"time":10,"timeNano":10500000000}'), { id: 'c1', action: 'die', time: 10500, exitCode: 3 });
  assert.equal(toRuntimeEvent('{"Type":"container","Action":"remove","id":"c1","time":10}'), { id: 'c1', action: 'destroy', time: 10000 });
  assert.is(toRuntimeEvent('{"Type":"image","Action":"pull","id":"x"}'), null);
  assert.is(toRuntimeEvent('not json'), null);
});

test('image references split into name and tag for a pull', () => {
  assert.equal(splitImage('busybox'), { name: 'busybox', tag: 'latest' });
  assert.equal(splitImage('localhost:5000/a/b:1.2'), { name: 'localhost:5000/a/b', tag: '1.2' });
  assert.equal(splitImage('localhost:5000/a/b'), { name: 'localhost:5000/a/b', tag: 'latest' });
  assert.equal(splitImage('b@sha256:abc'), { name: 'b', tag: 'sha256:abc' });
});

test.run();
