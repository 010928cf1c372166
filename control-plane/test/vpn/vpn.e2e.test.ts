import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { wgPublicKey } from '@edgehook/shared/wireguard';
import { ADMIN_PASSWORD, adminApi, apiClient, jsonOf, runCli, cleanup, createEnrollmentToken, enrollRaw, killAllAgents, login, SAMPLE_DESCRIPTION, spawnAgent, startTestControlPlane, tempDir, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { confValue, run, uniqueIfname, wgCheck, wgPubkey, wgTools, WG_ENV } from './wg-tools.js';

// The VPN end to end (issue 18): real control plane, real agents, configs judged by wireguard-tools.
const ENDPOINT = '192.0.2.10:51820';
const SUBNET = '10.251.3.0/29'; // the hub .1, five device addresses .2-.6
let cp: TestControlPlane;
let api: Api;
const agents: Array<AgentProcess & { deviceId: string }> = [];
const realIfnames: string[] = [];
const cliDirs: string[] = [];
/** Every answer the API gave in this file, to prove no device private key is in any. */
const answers: string[] = [];

async function call(a: Api, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await a.request(method, path, body);
  answers.push(typeof res.body === 'string' ? res.body : JSON.stringify(res.body));
  return res;
}

async function agent(extraArgs: string[], env: Record<string, string> = {}): Promise<AgentProcess & { deviceId: string }> {
  const token = await createEnrollmentToken(api);
  const a = spawnAgent({ server: cp.url, token, stateDir: await tempDir('edgehook-agent-'), hostname: `vpn-${Math.random().toString(36).slice(2, 8)}`, extraArgs, env });
  const deviceId = await waitFor('agent enrollment', async () => /"deviceId":"([^"]+)"/.exec(a.output())?.[1], 15_000);
  await waitFor('device online', async () => (await api.request('GET', `/api/devices/${deviceId}`)).body?.online === true, 15_000);
  const withId = Object.assign(a, { deviceId });
  agents.push(withId);
  return withId;
}

/** A device with no agent (a WSI backend stands in for it): enrolled, never connected. */
async function backendDevice(hostname: string): Promise<string> {
  const res = await enrollRaw(cp, await createEnrollmentToken(api), { ...SAMPLE_DESCRIPTION, hostname });
  return String((await jsonOf(res)).deviceId);
}

async function userApi(name: string, permissions: string[] | 'viewer'): Promise<Api> {
  let roleName = 'viewer';
  if (permissions !== 'viewer') {
    roleName = `${name}-role`;
    assert.is((await api.request('POST', '/api/roles', { name: roleName, permissions })).status, 201);
  }
  assert.is((await api.request('POST', '/api/users', { username: name, password: `${name}-password-1`, roleName })).status, 201);
  return apiClient(cp.url, (await login(cp.url, name, `${name}-password-1`)).accessToken);
}

test.before(async () => {
  await wgTools();
  cp = await startTestControlPlane({ args: ['--vpn-endpoint', ENDPOINT, '--vpn-subnet', SUBNET] });
  api = await adminApi(cp);
});

test.after(async () => {
  await killAllAgents();
  for (const ifname of realIfnames) await run('ip', ['link', 'del', ifname]).catch(() => undefined);
  await cp?.close();
  await cleanup(...cliDirs, ...agents.map((a) => a.stateDir), ...(cp ? [cp.dataDir] : []));
});

let simulated: AgentProcess & { deviceId: string };
let devicePrivateKey = '';

test('an agent enrolls, enables its VPN, gets an address; the private key never leaves the device', async () => {
  simulated = await agent(['--vpn', 'simulate', '--telemetry-interval', '1s']);
  const before = await call(api, 'GET', `/api/devices/${simulated.deviceId}/vpn`);
  assert.is(before.status, 200);
  assert.is(before.body.enabled, false);
  assert.is(before.body.address, null);
  const issued = await call(api, 'POST', `/api/devices/${simulated.deviceId}/vpn`, {});
  assert.is(issued.status, 200, JSON.stringify(issued.body));
  assert.is(issued.body.enabled, true);
  assert.is(issued.body.address, '10.251.3.2');
  assert.is(issued.body.keySource, 'device');
  assert.is(issued.body.status.state, 'up');
  assert.is(issued.body.status.mode, 'simulate');
  devicePrivateKey = (await readFile(join(simulated.stateDir, 'vpn/private.key'), 'utf8')).trim();
  assert.is(wgPublicKey(devicePrivateKey), issued.body.publicKey, 'the control plane holds the public half of the key made on the device');
  assert.is(await wgPubkey(devicePrivateKey), issued.body.publicKey, 'as wg pubkey derives it');
  // The device's wg-quick config is accepted by wireguard-tools and points at the hub.
  const conf = await readFile(join(simulated.stateDir, 'vpn/edgehook0.conf'), 'utf8');
  assert.is((await stat(join(simulated.stateDir, 'vpn/edgehook0.conf'))).mode & 0o777, 0o600);
  const hub = await call(api, 'GET', '/api/vpn');
  assert.is(hub.body.enabled, true);
  assert.is(hub.body.hubAddress, '10.251.3.1');
  assert.is(hub.body.capacity, 5);
  assert.is(hub.body.used, 1);
  assert.is(confValue(conf, 'Address'), '10.251.3.2/32');
  const { stripped, shown } = await wgCheck(conf);
  assert.is(confValue(stripped, 'PublicKey'), hub.body.hubPublicKey);
  if (shown) {
    assert.is(confValue(shown, 'Endpoint'), ENDPOINT);
    assert.is(confValue(shown, 'AllowedIPs'), SUBNET);
  }
  // The live state, and the same through Quix's vpn_status telemetry.
  const state = await call(api, 'GET', `/api/devices/${simulated.deviceId}/vpn`);
  assert.is(state.body.status.address, '10.251.3.2/32');
  const snap = await call(api, 'POST', `/api/devices/${simulated.deviceId}/telemetry/snapshot`, { stat_types: ['vpn_status'] });
  assert.is(snap.body.tele_data.vpn_status.ifname, 'edgehook0');
  assert.is(snap.body.tele_data.vpn_status.conn_ip4, '10.251.3.2');
  assert.is(snap.body.tele_data.vpn_status.conn_host, '192.0.2.10');
  assert.is(snap.body.tele_data.vpn_status.up, true);
  // The agent reports it on its own too: the vpn.up series, stored like any telemetry.
  await waitFor('vpn.up reported', async () => {
    const latest = await call(api, 'GET', '/api/telemetry/latest?metric=vpn.up');
    return latest.body.entries.find((e: { deviceId: string; value: number; labels: Record<string, string> }) => e.deviceId === simulated.deviceId && e.value === 1 && e.labels['ifname'] === 'edgehook0');
  }, 20_000, 250);
  // Re-issuing keeps the address; rotate makes a new key on the device.
  const again = await call(api, 'POST', `/api/devices/${simulated.deviceId}/vpn`, { rotate: true });
  assert.is(again.body.address, '10.251.3.2');
  assert.is.not(again.body.publicKey, issued.body.publicKey);
  devicePrivateKey = (await readFile(join(simulated.stateDir, 'vpn/private.key'), 'utf8')).trim();
  assert.is(wgPublicKey(devicePrivateKey), again.body.publicKey);
  // Issuing is an operator action in the audit log.
  const audit = await waitFor('the audit entries', async () => {
    const res = await call(api, 'GET', `/api/audit?action=vpn.issue&device=${simulated.deviceId}`);
    return res.body.entries.length >= 2 ? res.body.entries : undefined;
  });
  assert.is(audit[0].result, 'ok');
});

test('hub.conf: every peer for the operator\'s WireGuard server; the hub private key only with vpn.hub.secret', async () => {
  const hubKey = (await readFile(join(cp.dataDir, 'vpn/hub.key'), 'utf8')).trim();
  assert.is((await stat(join(cp.dataDir, 'vpn/hub.key'))).mode & 0o777, 0o600);
  assert.not.ok(cp.logs.join('\n').includes(hubKey), 'the hub key is never logged');
  const res = await fetch(cp.url + '/api/vpn/hub.conf', { headers: { authorization: `Bearer ${api.token}` } });
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  assert.is(res.headers.get('cache-control'), 'no-store');
  const text = await res.text();
  answers.push(text);
  assert.is(confValue(text, 'PrivateKey'), hubKey, 'the admin (*) has vpn.hub.secret');
  assert.is(confValue(text, 'ListenPort'), '51820');
  assert.is(confValue(text, 'Address'), '10.251.3.1/29');
  const { shown } = await wgCheck(text);
  const dev = await call(api, 'GET', `/api/devices/${simulated.deviceId}/vpn`);
  assert.match(text, `PublicKey = ${dev.body.publicKey}\nAllowedIPs = 10.251.3.2/32`);
  if (shown) assert.match(shown, `PublicKey = ${dev.body.publicKey}`);

  const reader = await userApi('vera', ['devices.read', 'devices.vpn.read']);
  const hidden = await call(reader, 'GET', '/api/vpn/hub.conf');
  assert.is(hidden.status, 200);
  assert.not.ok(String(hidden.body).includes(hubKey));
  assert.match(String(hidden.body), /^# PrivateKey = <the hub private key: .*hub\.key on the control plane>$/m);
  assert.match(String(hidden.body), /needs the vpn\.hub\.secret permission/);
  await wgCheck(String(hidden.body));
  assert.is((await call(reader, 'POST', `/api/devices/${simulated.deviceId}/vpn`, {})).status, 403, 'reading is not issuing');
  const viewer = await userApi('vic', 'viewer');
  assert.is((await call(viewer, 'GET', '/api/vpn')).status, 403);
  assert.is((await call(viewer, 'GET', `/api/devices/${simulated.deviceId}/vpn`)).status, 403);
});

test('--vpn apply runs the real wg-quick (wireguard-go where the kernel has no WireGuard)', async () => {
  const { userspace } = await wgTools();
  if (!userspace) return console.log('  (real apply skipped: needs root, /dev/net/tun and wireguard-go)');
  const ifname = uniqueIfname('ehe');
  realIfnames.push(ifname);
  const real = await agent(['--vpn', 'apply', '--vpn-interface', ifname], { WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' });
  const issued = await call(api, 'POST', `/api/devices/${real.deviceId}/vpn`, {});
  assert.is(issued.status, 200, JSON.stringify(issued.body));
  assert.is(issued.body.status.mode, 'apply');
  assert.is(issued.body.status.state, 'up', JSON.stringify(issued.body.status));
  const hub = await call(api, 'GET', '/api/vpn');
  const dump = await run('wg', ['show', ifname, 'dump'], undefined, WG_ENV);
  const [ifaceLine, peerLine] = dump.trim().split('\n');
  assert.is(ifaceLine?.split('\t')[1], issued.body.publicKey, 'the kernel interface has the device-made key');
  assert.equal(peerLine?.split('\t').slice(0, 4), [hub.body.hubPublicKey, '(none)', ENDPOINT, SUBNET]);
  assert.match(await run('ip', ['-4', 'addr', 'show', 'dev', ifname]), `inet ${issued.body.address}/32`);
  assert.not.ok(real.output().includes((await readFile(join(real.stateDir, 'vpn/private.key'), 'utf8')).trim()), 'not in the agent log either');
  await real.stop();
  await run('ip', ['link', 'del', ifname]);
});

test('WSI backends get a server-made wg-quick config; the pool runs out with a clear error; delete frees the address', async () => {
  const backend = await backendDevice('wsi-a');
  const conf = await cp.vpn.wireguardConfigForBackend(backend);
  answers.push(conf);
  await wgCheck(conf);
  const view = await call(api, 'GET', `/api/devices/${backend}/vpn`);
  assert.is(view.body.keySource, 'server');
  assert.is(wgPublicKey(confValue(conf, 'PrivateKey') ?? ''), view.body.publicKey);
  assert.is(confValue(conf, 'Address'), `${view.body.address}/32`);
  const hubConf = await call(api, 'GET', '/api/vpn/hub.conf');
  assert.match(String(hubConf.body), `PublicKey = ${view.body.publicKey}\nAllowedIPs = ${view.body.address}/32`);
  // Fill the pool: five addresses in all.
  const used = (await call(api, 'GET', '/api/vpn')).body.used;
  const fillers: string[] = [];
  for (let i = used; i < 5; i++) {
    const id = await backendDevice(`wsi-fill-${i}`);
    await cp.vpn.wireguardConfigForBackend(id);
    fillers.push(id);
  }
  const late = await backendDevice('wsi-late');
  let full = '';
  await cp.vpn.wireguardConfigForBackend(late).catch((err: Error) => (full = err.message));
  assert.match(full, /the VPN address pool 10\.251\.3\.0\/29 is full \(5 device addresses\)/);
  assert.is((await call(api, 'POST', `/api/devices/${simulated.deviceId}/vpn`, {})).status, 200, 'a device with an address keeps it when the pool is full');
  const freed = (await call(api, 'GET', `/api/devices/${backend}/vpn`)).body.address;
  assert.is((await call(api, 'DELETE', `/api/devices/${backend}`)).status, 204);
  assert.match(await cp.vpn.wireguardConfigForBackend(late), `Address = ${freed}/32`);
  let agentKey = '';
  await cp.vpn.wireguardConfigForBackend(simulated.deviceId).catch((err: Error) => (agentKey = err.message));
  assert.match(agentKey, /runs an agent that made its own VPN key/);
  let unknown = '';
  await cp.vpn.wireguardConfigForBackend('no-such-device').catch((err: Error) => (unknown = err.message));
  assert.match(unknown, /no device no-such-device/);
});

test('an agent without --vpn says how to turn it on, and is given no address', async () => {
  const off = await agent([]);
  const res = await call(api, 'POST', `/api/devices/${off.deviceId}/vpn`, {});
  assert.is(res.status, 501);
  assert.match(res.body.error.message, /the VPN is off on this agent: start it with --vpn apply/);
  assert.is((await call(api, 'GET', `/api/devices/${off.deviceId}/vpn`)).body.address, null);
  assert.is((await call(api, 'POST', `/api/devices/${off.deviceId}/vpn`, { rotate: 'yes' })).status, 400);
});

test('edgehook vpn status | enable | hub-conf', async () => {
  const config = await tempDir('edgehook-cli-');
  cliDirs.push(config);
  const loggedIn = await runCli(config, ['login', '--server', cp.url, '--username', 'admin'], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  assert.is(loggedIn.code, 0, loggedIn.stderr);
  const name = String((await api.request('GET', `/api/devices/${simulated.deviceId}`)).body.name);
  const enabled = await runCli(config, ['vpn', 'enable', name]);
  answers.push(enabled.stdout, enabled.stderr);
  assert.is(enabled.code, 0, enabled.stderr);
  assert.match(enabled.stdout, `${name}: 10.251.3.2 up`);
  const one = await runCli(config, ['vpn', 'status', name]);
  assert.is(one.code, 0, one.stderr);
  assert.match(one.stdout, /DEVICE\s+ADDRESS\s+STATE/);
  assert.match(one.stdout, new RegExp(`${name}\\s+10\\.251\\.3\\.2\\s+up \\(simulated\\)\\s+device`));
  const all = await runCli(config, ['vpn', 'status']);
  answers.push(all.stdout);
  assert.match(all.stdout, new RegExp(`^hub ${ENDPOINT}  10\\.251\\.3\\.1 in 10\\.251\\.3\\.0/29  \\d/5 addresses`, 'm'));
  assert.match(all.stdout, name);
  const asJson = await runCli(config, ['vpn', 'status', '--json']);
  assert.is(JSON.parse(asJson.stdout).subnet, SUBNET);
  const out = join(config, 'hub.conf');
  const written = await runCli(config, ['vpn', 'hub-conf', '-o', out]);
  assert.is(written.code, 0, written.stderr);
  assert.is((await stat(out)).mode & 0o777, 0o600);
  const conf = await readFile(out, 'utf8');
  answers.push(conf);
  await wgCheck(conf);
  assert.match(conf, 'AllowedIPs = 10.251.3.2/32');
  const printed = await runCli(config, ['vpn', 'hub-conf']);
  assert.is(printed.stdout, conf);
  for (const [args, why] of [[['vpn', 'up'], /unknown action "up"/], [['vpn', 'enable'], /missing <device>/], [['vpn', 'status', '--rotate'], /--rotate goes with enable/]] as const) {
    const bad = await runCli(config, [...args]);
    assert.is(bad.code, 2, args.join(' '));
    assert.match(bad.stderr, why);
  }
  const missing = await runCli(config, ['vpn', 'status', 'no-such-device']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /no-such-device/);
});

test('no device private key in the store, in any API answer or in the control plane log', async () => {
  const keys = [devicePrivateKey];
  for (const a of agents) {
    const k = await readFile(join(a.stateDir, 'vpn/private.key'), 'utf8').catch(() => '');
    if (k.trim()) keys.push(k.trim());
  }
  assert.ok(keys.length >= 1 && keys.every((k) => k.length === 44));
  const storeBytes = (await Promise.all((await readdir(cp.dataDir)).filter((f) => f.startsWith('edgehook.db')).map((f) => readFile(join(cp.dataDir, f), 'latin1')))).join('');
  assert.ok(storeBytes.length > 0);
  const everything = [storeBytes, ...answers, cp.logs.join('\n')].join('\n');
  for (const k of keys) assert.not.ok(everything.includes(k), 'a device private key leaked');
  assert.ok(storeBytes.includes((await call(api, 'GET', `/api/devices/${simulated.deviceId}/vpn`)).body.publicKey), 'the public key is stored (the search would find a key)');
});

test('the VPN off (no --vpn-endpoint): the API says so and how to turn it on', async () => {
  const plain = await startTestControlPlane();
  try {
    const admin = await adminApi(plain);
    assert.equal((await admin.request('GET', '/api/vpn')).body, { enabled: false, endpoint: null, subnet: null, hubAddress: null, hubPublicKey: null, capacity: 0, used: 0, peers: [] });
    const conf = await admin.request('GET', '/api/vpn/hub.conf');
    assert.is(conf.status, 409);
    assert.match(conf.body.error.message, /the VPN is off: start the control plane with --vpn-endpoint host:port/);
  } finally {
    await plain.close();
    await cleanup(plain.dataDir);
  }
});

test.run();
