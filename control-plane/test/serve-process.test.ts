import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, CP_MAIN, adminApi, cleanup, createEnrollmentToken, killAllAgents, spawnAgent, tempDir, waitFor } from './helpers/harness.js';

/** The control plane as users run it: `edgehook serve` in its own process. */
function serve(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CP_MAIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return { child, output: () => out, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const t = suite('edgehook serve process');
const running = new Set<ChildProcess>();
t.after(async () => {
  await killAllAgents();
  for (const c of running) c.kill('SIGKILL');
});

t('first start prints a generated admin password once; bad flags exit 2 with a clear message', async () => {
  const dir = await tempDir();
  const [port, mqttPort] = [await freePort(), await freePort()];
  const first = serve(['--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', dir]);
  running.add(first.child);
  const password = await waitFor('banner', () => /log in as admin with password (\S+)/.exec(first.output())?.[1], 15_000);
  const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
  assert.is(login.status, 200);
  first.child.kill('SIGTERM');
  assert.is(await first.exited, 0);
  const second = serve(['--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', dir]);
  running.add(second.child);
  await waitFor('second banner', () => /Edgehook control plane/.test(second.output()), 15_000);
  assert.not.match(second.output(), /password/, 'the password is shown only on the first start');
  second.child.kill('SIGTERM');
  await second.exited;
  const bad = serve(['--port', 'eighty']);
  assert.is(await bad.exited, 2);
  assert.match(bad.output(), /--port \/ EDGEHOOK_PORT="eighty"/);
  await cleanup(dir);
});

t('an agent on MQTT-over-websocket comes back after the control plane restarts', async () => {
  const dir = await tempDir();
  const [port, mqttPort] = [await freePort(), await freePort()];
  const args = ['--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', dir];
  const env = { EDGEHOOK_ADMIN_PASSWORD: ADMIN_PASSWORD };
  let cp = serve(args, env);
  running.add(cp.child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('control plane up', async () => (await fetch(url + '/api/health')).ok, 15_000);
  const api = await adminApi({ url });
  const agentDir = await tempDir();
  const agent = spawnAgent({ server: url, token: await createEnrollmentToken(api), stateDir: agentDir, extraArgs: ['--mqtt-transport', 'ws'] });
  const deviceId = await waitFor('enrolled', () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 15_000);
  await waitFor('online', async () => (await api.request('GET', `/api/devices/${deviceId}`)).body.online === true, 15_000);
  cp.child.kill('SIGTERM');
  assert.is(await cp.exited, 0);
  await agent.waitForOutput(/disconnected from the control plane/, 10_000);
  cp = serve(args, env);
  running.add(cp.child);
  await waitFor('control plane up again', async () => (await fetch(url + '/api/health').catch(() => undefined))?.ok, 15_000);
  const api2 = await adminApi({ url });
  await waitFor('agent back online', async () => (await api2.request('GET', `/api/devices/${deviceId}`)).body.online === true, 30_000);
  assert.is((await api2.request('POST', `/api/devices/${deviceId}/ping`)).status, 200);
  await agent.stop();
  cp.child.kill('SIGTERM');
  await cp.exited;
  await cleanup(dir, agentDir);
});

t.run();
