// Edgehook's own hardware REST API (/api/devices/:id/hardware/...) and the gpio/power/type CLI
// commands (the built dist, as child processes), against a real agent on the simulated board.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, adminApi, runCli, cleanup, enrolledAgent, killAllAgents, startTestControlPlane, tempDir, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import WebSocket from 'ws';
import { userWith } from './kvm-helpers.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  agent: AgentProcess & { deviceId: string };
  hw: string;
  config: string;
}
const t = suite<Ctx>('hardware REST and CLI (simulated board, real agent)');

const cli = runCli;

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.agent = await enrolledAgent(ctx.cp, ctx.api, { profile: 'simulated', hostname: 'kvm-sim' });
  ctx.hw = `/api/devices/${ctx.agent.deviceId}/hardware`;
  ctx.config = await tempDir('edgehook-cli-');
  const login = await cli(ctx.config, ['login', '--server', ctx.cp.url, '--username', 'admin'], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir, ctx.config);
});

t('snapshot, gpio switch/pulse with wait and measured duration, JSON bodies validated', async ({ api, hw }) => {
  const snap = await api.request('GET', hw);
  assert.is(snap.status, 200);
  assert.ok(snap.body.gpioModel && snap.body.gpio && snap.body.atx && snap.body.hid && snap.body.info);
  assert.equal((await api.request('POST', `${hw}/gpio/relay/switch`, { state: true })).body, { done: true });
  assert.is((await api.request('GET', `${hw}/gpio`)).body.state.outputs.relay.state, true);
  const pulse = await api.request('POST', `${hw}/gpio/doorbell/pulse`, { delay: 0.1, wait: true });
  assert.is(pulse.body.done, true);
  assert.ok(pulse.body.durationMs >= 100, `duration ${pulse.body.durationMs}`);
  assert.is((await api.request('POST', `${hw}/gpio/relay/switch`, { state: 'yes' })).status, 400);
  assert.is((await api.request('POST', `${hw}/gpio/relay/switch`, '{nope')).status, 400);
  const unknown = await api.request('POST', `${hw}/gpio/nope/switch`, { state: true });
  assert.is(unknown.status, 400);
  assert.match(unknown.body.error.message, /unknown GPIO channel/);
  assert.is((await api.request('GET', '/api/devices/missing/hardware/gpio')).status, 404);
});

t('i2c sensors, serial echo through the simulated loopback, info and log', async ({ api, hw }) => {
  const i2c = await api.request('GET', `${hw}/i2c`);
  assert.is(i2c.body.sensors[0].metric, 'temp.board');
  assert.type(i2c.body.sensors[0].value, 'number');
  assert.equal((await api.request('GET', `${hw}/serial`)).body.ports.map((p: { name: string }) => p.name), ['console', 'aux']);
  const echo = await api.request('POST', `${hw}/serial/console/exchange`, { data: 'AT\r\n', readMs: 50 });
  assert.equal(echo.body, { data: 'AT\r\n' });
  assert.is((await api.request('POST', `${hw}/serial/nope/exchange`, { data: 'x' })).status, 400);
  assert.equal(Object.keys((await api.request('GET', `${hw}/info?fields=meta`)).body), ['meta']);
  const log = await api.request('GET', `${hw}/log?limit=5`);
  assert.ok(log.body.lines.length > 0 && log.body.lines.length <= 5);
});

t('permissions: devices.power guards ATX; hardware.read alone cannot switch', async ({ cp, api, hw }) => {
  const { user, pass } = await userWith(api, 'gpio-only', ['devices.read', 'devices.hardware.read', 'devices.hardware.write']);
  const login = await fetch(`${cp.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password: pass }) });
  const token = ((await login.json()) as { accessToken: string }).accessToken;
  const as = (method: string, path: string, body?: unknown) =>
    fetch(cp.url + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  assert.is((await as('POST', `${hw}/gpio/relay/switch`, { state: false })).status, 200);
  const denied = await as('POST', `${hw}/atx/power`, { action: 'on' });
  assert.is(denied.status, 403);
  assert.match(((await denied.json()) as { error: { message: string } }).error.message, /devices.power/);
});

t('CLI: gpio table, switch, pulse --wait; bad usage exits 2', async ({ config, api, hw }) => {
  const table = await cli(config, ['gpio', 'kvm-sim']);
  assert.is(table.code, 0, table.stderr);
  assert.match(table.stdout, /CHANNEL\s+DIRECTION\s+STATE/);
  assert.match(table.stdout, /doorbell\s+output\s+off\s+pulse\s+0.5s \(0.1..2\)/);
  const sw = await cli(config, ['gpio', 'kvm-sim', 'switch', 'fan', 'on']);
  assert.is(sw.code, 0, sw.stderr);
  assert.match(sw.stdout, /fan switched on/);
  assert.is((await api.request('GET', `${hw}/gpio`)).body.state.outputs.fan.state, true);
  const pulse = await cli(config, ['gpio', 'kvm-sim', 'pulse', 'doorbell', '--delay', '0.1', '--wait']);
  assert.is(pulse.code, 0, pulse.stderr);
  assert.match(pulse.stdout, /doorbell pulsed for \d+\.\d ms/);
  const bad = await cli(config, ['gpio', 'kvm-sim', 'switch', 'fan', 'maybe']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /on or off/);
  const refused = await cli(config, ['gpio', 'kvm-sim', 'switch', 'doorbell', 'on']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /pulse-only/);
});

t('CLI: power on/off with --wait shows the LED; type reaches the keyboard', async ({ config, api, hw }) => {
  const status = await cli(config, ['power', 'kvm-sim']);
  assert.is(status.code, 0, status.stderr);
  assert.match(status.stdout, /power: off/);
  const on = await cli(config, ['power', 'kvm-sim', 'on', '--wait']);
  assert.is(on.code, 0, on.stderr);
  assert.match(on.stdout, /power: on/);
  const off = await cli(config, ['power', 'kvm-sim', 'off', '--wait']);
  assert.is(off.code, 0, off.stderr);
  await waitFor('powered off', async () => (await api.request('GET', `${hw}/atx`)).body.leds.power === false, 3000);
  assert.is((await cli(config, ['power', 'kvm-sim', 'explode'])).code, 2);

  await api.request('GET', `${hw}/hid/reports?clear=true`);
  const typed = await cli(config, ['type', 'kvm-sim', 'Hi€']);
  assert.is(typed.code, 0, typed.stderr);
  assert.match(typed.stdout, /typed 2 characters, skipped 1/);
  const reports = (await api.request('GET', `${hw}/hid/reports`)).body.reports;
  assert.equal(reports.filter((r: string) => r !== '0000000000000000'), ['02000b0000000000', '00000c0000000000']);
});

function serialSocket(cp: TestControlPlane, device: string, token: string): Promise<{ ws: WebSocket; text: any[]; bytes: () => string }> {
  const ws = new WebSocket(`${cp.url.replace('http', 'ws')}/api/devices/${device}/serial`, { headers: { authorization: `Bearer ${token}` } });
  const text: any[] = [];
  let bytes = '';
  ws.on('message', (d, binary) => (binary ? (bytes += d.toString()) : text.push(JSON.parse(d.toString()))));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, text, bytes: () => bytes }));
    ws.once('error', reject);
  });
}

t('serial console relay: echo through the simulated loopback, one user per port, unknown port refused', async ({ cp, api, agent }) => {
  const a = await serialSocket(cp, agent.deviceId, api.token);
  a.ws.send(JSON.stringify({ type: 'open', port: 'console' }));
  const opened = await waitFor('opened', () => a.text.find((m) => m.type === 'opened'), 5000);
  assert.equal(opened.info, { port: 'console', path: 'sim://serial0', baud: 115200 });
  a.ws.send(Buffer.from('login: root\r\n'), { binary: true });
  await waitFor('echo', () => a.bytes() === 'login: root\r\n', 5000);

  const b = await serialSocket(cp, agent.deviceId, api.token);
  b.ws.send(JSON.stringify({ type: 'open' })); // the first port: console, still held by a
  const busy = await waitFor('busy error', () => b.text.find((m) => m.type === 'error'), 5000);
  assert.is(busy.code, 'CONFLICT');
  assert.match(busy.message, /in use/);

  a.ws.send(JSON.stringify({ type: 'close' }));
  await waitFor('end', () => a.text.find((m) => m.type === 'end'), 5000);
  const c = await serialSocket(cp, agent.deviceId, api.token);
  c.ws.send(JSON.stringify({ type: 'open', port: 'aux', baud: 57600 }));
  c.ws.send(Buffer.from('typed before the port opened'), { binary: true });
  assert.is((await waitFor('opened aux', () => c.text.find((m) => m.type === 'opened'), 5000)).info.baud, 57600);
  await waitFor('early input echoed', () => c.bytes() === 'typed before the port opened', 5000);
  c.ws.close();
  const d = await serialSocket(cp, agent.deviceId, api.token);
  d.ws.send(JSON.stringify({ type: 'open', port: 'nope' }));
  assert.match((await waitFor('unknown port', () => d.text.find((m) => m.type === 'error'), 5000)).message, /unknown serial port/);
});

t('CLI: edgehook serial relays piped input and prints what the line sends back', async ({ config }) => {
  // The console port is free again once the earlier sockets' streams were cancelled.
  const res = await cli(config, ['serial', 'kvm-sim', 'console'], {}, 'echo-me\n');
  assert.is(res.code, 0, res.stderr);
  assert.is(res.stdout, 'echo-me\n');
  const usage = await cli(config, ['serial', 'kvm-sim', 'console', '--baud', 'fast']);
  assert.is(usage.code, 2);
});

t.run();
