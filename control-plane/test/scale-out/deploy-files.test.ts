import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, killAllAgents, tempDir } from '../helpers/harness.js';
import { freePort, requireMosquitto, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { killAllReplicas, startServe, throwawayPostgres, type Replica } from '../helpers/replicas.js';
import { execAgent } from '../remote-exec/fixtures.js';

/**
 * docs/deploy.md's "Several replicas" files, as written: Mosquitto runs docs/deploy/mosquitto.conf
 * and two replicas run on docs/deploy/replica.env alone (no flags). Only hosts, ports and paths are
 * swapped for temporary ones, and the password file gets the generated password.
 */
const docs = fileURLToPath(new URL('../../../docs/deploy/', import.meta.url));
const found = requireMosquitto();
let mosquitto: TestMosquitto | undefined;
let pg: { url: string; stop(): Promise<void> } | undefined;
const replicas: Replica[] = [];

function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1]) env[m[1]] = m[2] ?? '';
  }
  return env;
}

test.after(async () => {
  await killAllAgents();
  await killAllReplicas();
  await mosquitto?.stop();
  await pg?.stop();
});

test('a cluster started from docs/deploy: enroll through one replica, ping through the other', async () => {
  if (!found) return;
  const db = await throwawayPostgres();
  if ('missing' in db) {
    if (process.env['CI'] === 'true') throw new Error(db.missing);
    return;
  }
  pg = db;
  const conf = await readFile(join(docs, 'mosquitto.conf'), 'utf8');
  assert.match(conf, /^plugin_opt_config_file /m);
  mosquitto = await startMosquitto(found, {
    conf: ({ port, plugin, dynsecFile }) =>
      conf
        .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
        .replace(/^plugin \S+$/m, `plugin ${plugin}`)
        .replace(/^plugin_opt_config_file \S+$/m, `plugin_opt_config_file ${dynsecFile}`)
        .replace(/^log_dest syslog$/m, 'log_dest stderr'),
  });
  const documented = parseEnv(await readFile(join(docs, 'replica.env'), 'utf8'));
  assert.ok(documented['EDGEHOOK_BROKER_PASSWORD_FILE'], 'the password comes from a file');
  for (let i = 0; i < 2; i++) {
    const dir = await tempDir('edgehook-deploy-');
    const passwordFile = join(dir, 'broker-password');
    await writeFile(passwordFile, `${mosquitto.admin.password}\n`, { mode: 0o600 });
    const env = {
      ...documented,
      EDGEHOOK_DATABASE: db.url,
      EDGEHOOK_BROKER_URL: mosquitto.url,
      EDGEHOOK_BROKER_USERNAME: mosquitto.admin.username,
      EDGEHOOK_BROKER_PASSWORD_FILE: passwordFile,
      EDGEHOOK_MQTT_PUBLIC_URL: mosquitto.url,
      EDGEHOOK_HOST: '127.0.0.1',
      EDGEHOOK_PORT: String(await freePort()),
      EDGEHOOK_DATA_DIR: dir,
    };
    assert.equal(Object.keys(env).sort(), Object.keys(documented).sort(), 'the test sets only what the documented file sets');
    replicas.push(await startServe([], env, dir));
  }
  const [a, b] = replicas;
  if (!a || !b) throw new Error('two replicas');
  const [apiA, apiB] = [await adminApi(a), await adminApi(b)];
  const agent = await execAgent(a, apiA);
  const ping = await apiB.request('POST', `/api/devices/${agent.deviceId}/ping`);
  assert.is(ping.status, 200, JSON.stringify(ping.body));
});

test.run();
