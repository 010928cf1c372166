import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadServeConfig } from '../src/config.js';

test('defaults match the documented embedded setup', () => {
  const c = loadServeConfig([], {});
  assert.is(c.host, '127.0.0.1');
  assert.is(c.port, 8080);
  assert.is(c.mqttPort, 1883);
  assert.is(c.store.kind, 'sqlite');
  assert.match(c.store.kind === 'sqlite' ? c.store.path : '', /data\/edgehook\.db$/);
});

test('every flag also reads its environment variable; flags win', () => {
  const c = loadServeConfig(['--port', '9000'], { EDGEHOOK_PORT: '7000', EDGEHOOK_MQTT_PORT: '1999', EDGEHOOK_DATA_DIR: '/tmp/x', EDGEHOOK_DEMO: 'true' });
  assert.is(c.port, 9000);
  assert.is(c.mqttPort, 1999);
  assert.is(c.dataDir, '/tmp/x');
  assert.ok(c.demo);
  const pg = loadServeConfig([], { EDGEHOOK_DATABASE: 'postgres://u:p@localhost/eh' });
  assert.is(pg.store.kind, 'postgres');
});

test('bad values are refused together with the flag and variable named', () => {
  try {
    loadServeConfig(['--port', 'eighty', '--log-level', 'loud'], { EDGEHOOK_MQTT_PORT: '70000' });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ConfigError);
    const msg = (err as Error).message;
    assert.match(msg, /--port \/ EDGEHOOK_PORT="eighty"/);
    assert.match(msg, /--mqtt-port \/ EDGEHOOK_MQTT_PORT="70000"/);
    assert.match(msg, /--log-level/);
  }
  assert.throws(() => loadServeConfig(['--what'], {}), /Unknown option/);
});

test.run();
