import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { adminApi, ADMIN_PASSWORD, apiClient, killAllAgents, tempDir, waitFor } from '../helpers/harness.js';
import { requireNginx, startNginx, type RunningNginx } from '../helpers/nginx.js';
import { freePort, requireMosquitto, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { killAllReplicas, startServe, throwawayPostgres, type Replica } from '../helpers/replicas.js';
import { execAgent } from '../remote-exec/fixtures.js';

/**
 * docs/deploy.md's "Several replicas" files, as written: Mosquitto runs docs/deploy/mosquitto.conf,
 * two replicas run on docs/deploy/replica.env alone (no flags), and nginx runs
 * docs/deploy/nginx-replicas.conf in front of them. Only hosts, ports and paths are swapped for
 * temporary ones, and the password file gets the generated password.
 */
const docs = fileURLToPath(new URL('../../../docs/deploy/', import.meta.url));
const found = requireMosquitto();
let mosquitto: TestMosquitto | undefined;
let pg: { url: string; stop(): Promise<void> } | undefined;
let nginx: RunningNginx | undefined;
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
  await nginx?.stop();
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

  // The documented balancer: plain round robin, no sticky sessions, the next replica on failure.
  if (!requireNginx()) return;
  const site = await readFile(join(docs, 'nginx-replicas.conf'), 'utf8');
  const port = await freePort();
  const upstreams = [a, b].map((r) => `    server ${new URL(r.url).host};`).join('\n');
  const wired = site.replace(/^upstream edgehook \{[\s\S]*?\n\}/m, `upstream edgehook {\n${upstreams}\n}`).replace(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${port};`);
  assert.match(wired, `listen 127.0.0.1:${port};`);
  nginx = await startNginx(await tempDir('edgehook-nginx-replicas-'), wired, port);
  const lb = `http://127.0.0.1:${port}`;
  const login = await fetch(`${lb}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  assert.is(login.status, 200);
  const viaLb = apiClient(lb, ((await login.json()) as { accessToken: string }).accessToken);
  // A token issued through one replica works on every request, whichever replica serves it.
  for (let i = 0; i < 6; i++) assert.is((await viaLb.request('GET', `/api/devices/${agent.deviceId}`)).status, 200);
  // A websocket through the balancer (the fleet events socket).
  const events = new WebSocket(`ws://127.0.0.1:${port}/api/events`, { headers: { authorization: `Bearer ${viaLb.token}` } });
  await new Promise<void>((resolve, reject) => {
    events.once('open', () => resolve());
    events.once('error', reject);
  });
  events.close();
  // kill -9 of one replica: reads keep being answered through nginx (proxy_next_upstream).
  await a.crash();
  for (let i = 0; i < 6; i++) {
    const res = await viaLb.request('GET', `/api/devices/${agent.deviceId}`);
    assert.is(res.status, 200, `request ${i} after the crash: ${res.status} ${JSON.stringify(res.body)}`);
  }
  await waitFor('a ping through the survivor', async () => (await viaLb.request('POST', `/api/devices/${agent.deviceId}/ping`)).status === 200, 20_000);
});

test.run();
