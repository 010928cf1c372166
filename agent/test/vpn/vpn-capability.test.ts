import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, EdgehookError, type VpnApplyParams } from '@edgehook/shared';
import { wgGenKeyPair, wgPublicKey } from '@edgehook/shared/wireguard';
import { startVpn, type VpnCapability } from '../../src/vpn/vpn.capability.js';
import { SimulatedVpnDriver } from '../../src/vpn/vpn-driver.js';
import { wireguardCollector } from '../../src/telemetry/collectors.js';
import { telemetrySnapshot } from '../../src/telemetry/snapshot.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const hub = wgGenKeyPair();
const dirs: string[] = [];
const stateDir = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'edgehook-vpncap-'));
  dirs.push(d);
  return d;
};
const start = (dir: string, mode: 'off' | 'simulate', driver = new SimulatedVpnDriver()): Promise<VpnCapability> => startVpn({ mode, stateDir: dir, ifname: 'edgehook0', log, driver: async () => driver });
const params = (publicKey: string): VpnApplyParams => ({ address: '10.87.0.2/32', hubPublicKey: hub.publicKey, endpoint: '192.0.2.10:51820', allowedIps: ['10.87.0.0/24'], persistentKeepalive: 25, publicKey });
const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

test('--vpn off: every call says how to turn it on', async () => {
  const vpn = await start(await stateDir(), 'off');
  let err: unknown;
  await vpn.handlers['vpn.key']?.({ rotate: false }).catch((e: unknown) => (err = e));
  assert.instance(err, EdgehookError);
  assert.is((err as EdgehookError).code, 'UNKNOWN_METHOD');
  assert.match((err as EdgehookError).message, /--vpn apply .* or --vpn simulate/);
  assert.equal(await vpn.handlers['vpn.status']?.({}), { mode: 'off', state: 'down', ifname: null, address: null, publicKey: null, latestHandshake: null });
  assert.is(await vpn.managedInterface(), undefined);
});

test('the key is made on the device (0600), only its public half is answered; apply writes a 0600 config with it', async () => {
  const dir = await stateDir();
  const vpn = await start(dir, 'simulate');
  const { publicKey } = (await vpn.handlers['vpn.key']?.({ rotate: false })) ?? { publicKey: '' };
  const keyFile = join(dir, 'vpn/private.key');
  const privateKey = (await readFile(keyFile, 'utf8')).trim();
  assert.is(wgPublicKey(privateKey), publicKey);
  assert.is(await mode(keyFile), 0o600);
  assert.is(await mode(join(dir, 'vpn')), 0o700);
  assert.equal(await vpn.handlers['vpn.key']?.({ rotate: false }), { publicKey }, 'stable');
  // A config made for another key is refused: the device would have no matching private key.
  let wrong: unknown;
  await vpn.handlers['vpn.apply']?.(params(hub.publicKey)).catch((e: unknown) => (wrong = e));
  assert.is((wrong as EdgehookError).code, 'CONFLICT');
  const status = await vpn.handlers['vpn.apply']?.(params(publicKey));
  assert.equal(status, { mode: 'simulate', state: 'up', ifname: 'edgehook0', address: '10.87.0.2/32', publicKey, latestHandshake: null });
  const confFile = join(dir, 'vpn/edgehook0.conf');
  const conf = await readFile(confFile, 'utf8');
  assert.is(await mode(confFile), 0o600);
  assert.match(conf, `PrivateKey = ${privateKey}`);
  assert.match(conf, `PublicKey = ${hub.publicKey}`);
  assert.match(conf, 'Endpoint = 192.0.2.10:51820');
  // Applied again (a re-issue): down and up, still up.
  assert.is((await vpn.handlers['vpn.apply']?.(params(publicKey)))?.state, 'up');
  // vpn_status telemetry reports the managed tunnel, simulated or not.
  const env = { root: '/nonexistent-root', thermalZones: [], vcgencmd: false, managedVpn: vpn.managedInterface };
  const snap = await telemetrySnapshot(env, ['vpn_status']);
  assert.equal(snap.tele_data.vpn_status, { ifname: 'edgehook0', conn_type: 'wireguard', conn_host: '192.0.2.10', conn_ip4: '10.87.0.2', conn_ip6: null, last_handshake_s: null, up: true });
  assert.equal(await wireguardCollector(env).collect(Date.now()), [{ m: 'vpn.up', v: 1, l: { ifname: 'edgehook0' } }]);
  // A rotated key makes the applied config stale until it is issued again.
  const rotated = await vpn.handlers['vpn.key']?.({ rotate: true });
  assert.is.not(rotated?.publicKey, publicKey);
});

test('after a restart the applied tunnel comes back up', async () => {
  const dir = await stateDir();
  const first = await start(dir, 'simulate');
  const { publicKey } = (await first.handlers['vpn.key']?.({ rotate: false })) ?? { publicKey: '' };
  await first.handlers['vpn.apply']?.(params(publicKey));
  await first.close();
  const again = await start(dir, 'simulate', new SimulatedVpnDriver());
  assert.equal(await again.handlers['vpn.status']?.({}), { mode: 'simulate', state: 'up', ifname: 'edgehook0', address: '10.87.0.2/32', publicKey, latestHandshake: null });
});

test.after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test.run();
