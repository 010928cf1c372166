import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadAgentConfig } from '../../src/config.js';

test('container engine flags: defaults, flags, environment, bad values', () => {
  const d = loadAgentConfig([], {});
  assert.is(d.containerEngine, 'docker');
  assert.is(d.dockerSocket, undefined);
  const f = loadAgentConfig(['--docker-socket', '/run/podman/podman.sock', '--container-engine', 'simulated'], {});
  assert.is(f.dockerSocket, '/run/podman/podman.sock');
  assert.is(f.containerEngine, 'simulated');
  const e = loadAgentConfig([], { EDGEHOOK_DOCKER_SOCKET: '/x.sock', EDGEHOOK_CONTAINER_ENGINE: 'docker' });
  assert.is(e.dockerSocket, '/x.sock');
  assert.throws(() => loadAgentConfig(['--container-engine', 'lxc'], {}), (err: unknown) => err instanceof ConfigError && /container-engine/.test(err.message));
});

test.run();
