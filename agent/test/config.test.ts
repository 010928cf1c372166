import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadAgentConfig } from '../src/config.js';

test('flags win over environment variables; defaults fill the rest', () => {
  const c = loadAgentConfig(['--server', 'http://a:8080', '--profile', 'raspberry-pi-4b'], { EDGEHOOK_SERVER: 'http://b:1', EDGEHOOK_STATE_DIR: '/tmp/s' });
  assert.is(c.server, 'http://a:8080');
  assert.is(c.stateDir, '/tmp/s');
  assert.is(c.profile, 'raspberry-pi-4b');
  assert.is(c.mqttTransport, 'auto');
});

test('bad values are reported together, naming the flag', () => {
  try {
    loadAgentConfig(['--server', 'nope', '--mqtt-transport', 'pigeon', '--profile', 'Bad Profile'], {});
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ConfigError);
    const msg = (err as Error).message;
    assert.match(msg, /--server/);
    assert.match(msg, /--mqtt-transport/);
    assert.match(msg, /--profile/);
  }
});

test('unknown flags are refused with the usage', () => {
  assert.throws(() => loadAgentConfig(['--nope'], {}), (err: Error) => err instanceof ConfigError && /Usage/.test(err.message));
});

test.run();
