import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderWgQuick, wgGenKeyPair } from '@edgehook/shared/wireguard';
import { SimulatedVpnDriver, type VpnDriver } from '../../src/vpn/vpn-driver.js';
import { WgQuickDriver } from '../../src/vpn/wg-quick.driver.js';

/**
 * The VPN driver seam over both sides, one suite. The real side is Debian's wg-quick for real: on
 * a machine without WireGuard in the kernel it falls back to wireguard-go (root and /dev/net/tun
 * needed), so the interface, its address and route exist while the test runs.
 */
const has = (bin: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
if (process.env['CI'] === 'true' && !has('wg-quick')) throw new Error('wireguard-tools are required in CI (apt-get install wireguard-tools)');
const realPossible = has('wg-quick') && has('wireguard-go') && process.getuid?.() === 0 && existsSync('/dev/net/tun');
if (!realPossible) console.log('  (real wg-quick side skipped: needs root, /dev/net/tun, wireguard-tools and wireguard-go)');

const sides: Array<[string, () => VpnDriver]> = [['simulated', () => new SimulatedVpnDriver()]];
if (realPossible) sides.push(['wg-quick', () => new WgQuickDriver({ env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' } })]);

for (const [name, make] of sides) {
  const t = suite(`vpn driver: ${name}`);
  let dir = '';
  let ifname = '';
  let driver: VpnDriver;
  t.before.each(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgehook-vpn-'));
    ifname = `ehd${Math.random().toString(36).slice(2, 8)}`;
    driver = make();
  });
  t.after.each(async () => {
    if (await driver.isUp(ifname)) await driver.down(join(dir, `${ifname}.conf`), ifname).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  const conf = async (text: string): Promise<string> => {
    const path = join(dir, `${ifname}.conf`);
    await writeFile(path, text, { mode: 0o600 });
    await chmod(path, 0o600);
    return path;
  };
  const net = `10.254.${Math.floor(Math.random() * 200) + 20}`;
  const valid = (): string =>
    renderWgQuick({ iface: { privateKey: wgGenKeyPair().privateKey, address: [`${net}.2/32`] }, peers: [{ publicKey: wgGenKeyPair().publicKey, allowedIps: [`${net}.0/24`], endpoint: '192.0.2.10:51820', persistentKeepalive: 25 }] });

  t('up, up again refused, down, down again refused', async () => {
    const path = await conf(valid());
    assert.is(await driver.isUp(ifname), false);
    await driver.up(path, ifname);
    assert.is(await driver.isUp(ifname), true);
    assert.is(await driver.latestHandshake(ifname), null, 'no hub answers at 192.0.2.10');
    let again = '';
    await driver.up(path, ifname).catch((err: Error) => (again = err.message));
    assert.match(again, /already exists/);
    await driver.down(path, ifname);
    assert.is(await driver.isUp(ifname), false);
    let twice = '';
    await driver.down(path, ifname).catch((err: Error) => (twice = err.message));
    assert.match(twice, /is not a WireGuard interface/);
  });

  t('a config with a line wg does not know is refused and leaves no interface', async () => {
    const path = await conf(valid().replace('[Peer]', 'Frobnicate = 1\n[Peer]'));
    let refused = '';
    await driver.up(path, ifname).catch((err: Error) => (refused = err.message));
    assert.match(refused, /Line unrecognized|Configuration parsing error/);
    assert.is(await driver.isUp(ifname), false);
  });

  t.run();
}
