import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadServeConfig } from '../../src/config.js';
import { cleanup, tempDir } from '../helpers/harness.js';

const fails = (argv: string[], env: Record<string, string>, pattern: RegExp) => {
  try {
    loadServeConfig(argv, env);
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match(String(err instanceof Error ? err.message : err), pattern);
    return;
  }
  assert.unreachable(`accepted ${argv.join(' ')}`);
};

test('no --broker: the embedded broker, exactly as before', () => {
  assert.equal(loadServeConfig([], {}).broker, { kind: 'embedded' });
});

test('--broker with an account; the password from the environment or a file, never a flag', async () => {
  const c = loadServeConfig(['--broker', 'mqtt://mq:1883', '--broker-username', 'cp'], { EDGEHOOK_BROKER_PASSWORD: 'pw' });
  assert.equal(c.broker, { kind: 'external', url: 'mqtt://mq:1883', username: 'cp', password: 'pw' });
  const dir = await tempDir();
  const file = join(dir, 'pw');
  await writeFile(file, 'from-file\n');
  const f = loadServeConfig([], { EDGEHOOK_BROKER_URL: 'mqtts://mq:8883', EDGEHOOK_BROKER_USERNAME: 'cp', EDGEHOOK_BROKER_PASSWORD_FILE: file });
  assert.equal(f.broker, { kind: 'external', url: 'mqtts://mq:8883', username: 'cp', password: 'from-file' });
  await cleanup(dir);
});

test('bad broker settings are refused with a clear message', () => {
  fails(['--broker', 'mqtt://mq:1883', '--broker-username', 'cp', '--broker-password', 'x'], {}, /not accepted \(it would show in ps\)/);
  fails(['--broker-password=x'], {}, /EDGEHOOK_BROKER_PASSWORD/);
  fails(['--broker', 'mqtt://mq:1883'], { EDGEHOOK_BROKER_PASSWORD: 'pw' }, /needs --broker-username/);
  fails(['--broker', 'mqtt://mq:1883', '--broker-username', 'cp'], {}, /needs a password/);
  fails(['--broker', 'http://mq:1883', '--broker-username', 'cp'], { EDGEHOOK_BROKER_PASSWORD: 'pw' }, /--broker \/ EDGEHOOK_BROKER_URL="http:\/\/mq:1883": must be mqtt/);
  fails(['--broker', 'mqtt://mq:1883', '--broker-username', 'cp', '--broker-password-file', '/nonexistent/pw'], {}, /--broker-password-file \/nonexistent\/pw: ENOENT/);
  fails(['--broker-username', 'cp'], {}, /need --broker/);
});

test.run();
