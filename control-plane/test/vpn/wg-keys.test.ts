import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderWgQuick, wgGenKeyPair, wgPublicKey } from '@edgehook/shared/wireguard';
import { WgKey } from '@edgehook/shared';
import { loadServeConfig, ConfigError } from '../../src/config.js';
import { loadAgentConfig } from '../../../agent/src/config.js';
import { addressPool, subnetProblem } from '../../src/vpn/address-pool.js';
import { confValue, wgCheck, wgGenkey, wgPubkey, wgTools } from './wg-tools.js';

test('wg genkey | wg pubkey agrees with our X25519 derivation, and wg pubkey agrees with our key pairs', async () => {
  await wgTools();
  for (let i = 0; i < 8; i++) {
    const priv = await wgGenkey();
    assert.ok(WgKey.safeParse(priv).success, priv);
    assert.is(wgPublicKey(priv), await wgPubkey(priv));
    const ours = wgGenKeyPair();
    assert.ok(WgKey.safeParse(ours.privateKey).success && WgKey.safeParse(ours.publicKey).success);
    assert.is(await wgPubkey(ours.privateKey), ours.publicKey);
  }
  assert.throws(() => wgPublicKey('not-a-key'), /WireGuard key/);
});

test('a rendered config is accepted by wg-quick strip and wg setconf, and values cannot add lines', async () => {
  const hub = wgGenKeyPair();
  const dev = wgGenKeyPair();
  const text = renderWgQuick({ header: ['weird\nname'], iface: { privateKey: dev.privateKey, address: ['10.87.0.2/32'] }, peers: [{ publicKey: hub.publicKey, allowedIps: ['10.87.0.0/24'], endpoint: '192.0.2.10:51820', persistentKeepalive: 25, comment: 'hub\r\nPrivateKey = x' }] });
  assert.not.match(text, /^PrivateKey = x/m, 'a comment stays one comment line');
  const { stripped, shown } = await wgCheck(text);
  assert.not.match(stripped, /^Address/m, 'wg-quick strips its own keys');
  assert.is(confValue(stripped, 'PrivateKey'), dev.privateKey);
  if (shown) {
    assert.is(confValue(shown, 'PublicKey'), hub.publicKey);
    assert.is(confValue(shown, 'AllowedIPs'), '10.87.0.0/24');
    assert.is(confValue(shown, 'PersistentKeepalive'), '25');
  } else console.log('  (wg setconf check needs root, /dev/net/tun and wireguard-go: checked with wg-quick strip only)');
  assert.throws(() => renderWgQuick({ iface: { address: ['10.0.0.1/24\n[Peer]'] }, peers: [] }), /line breaks/);
});

test('the address pool: hub first, devices after, never network or broadcast', () => {
  const pool = addressPool('10.87.0.0/24');
  assert.is(pool.hubAddress, '10.87.0.1');
  assert.is(pool.addressAt(0), '10.87.0.2');
  assert.is(pool.addressAt(pool.capacity - 1), '10.87.0.254');
  assert.is(pool.capacity, 253);
  assert.throws(() => pool.addressAt(253), /outside the VPN pool/);
  assert.is(addressPool('192.168.4.0/30').capacity, 1);
  assert.match(subnetProblem('10.87.0.1/24') ?? '', /host bits set: the network is 10\.87\.0\.0\/24/);
  assert.match(subnetProblem('10.87.0.0/31') ?? '', /\/8 to \/30/);
  assert.match(subnetProblem('10.87.0.300/24') ?? '', /IPv4 CIDR/);
  assert.match(subnetProblem('fd00::/64') ?? '', /IPv4 CIDR/);
});

const serveError = (args: string[], env: Record<string, string> = {}): string => {
  try {
    loadServeConfig(args, env);
  } catch (err) {
    assert.instance(err, ConfigError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${args.join(' ')}`);
};

test('serve: --vpn-endpoint / --vpn-subnet are validated with clear errors; the VPN is off without an endpoint', () => {
  assert.is(loadServeConfig([], {}).vpn, undefined);
  assert.equal(loadServeConfig(['--vpn-endpoint', 'vpn.example.com:51820'], {}).vpn, { endpoint: 'vpn.example.com:51820', subnet: '10.87.0.0/24' });
  assert.equal(loadServeConfig([], { EDGEHOOK_VPN_ENDPOINT: '[2001:db8::1]:51820', EDGEHOOK_VPN_SUBNET: '10.9.0.0/16' }).vpn, { endpoint: '[2001:db8::1]:51820', subnet: '10.9.0.0/16' });
  assert.match(serveError(['--vpn-endpoint', 'vpn.example.com']), /--vpn-endpoint \/ EDGEHOOK_VPN_ENDPOINT="vpn.example.com": must be host:port/);
  assert.match(serveError(['--vpn-endpoint', 'vpn.example.com:70000']), /port must be 1-65535/);
  assert.match(serveError(['--vpn-endpoint', 'h:1', '--vpn-subnet', '10.0.0.5/24']), /--vpn-subnet \/ EDGEHOOK_VPN_SUBNET="10.0.0.5\/24": has host bits set/);
  assert.match(serveError(['--vpn-endpoint', 'h:1', '--vpn-subnet', 'lots']), /IPv4 CIDR/);
  assert.match(serveError(['--vpn-subnet', '10.1.0.0/24']), /--vpn-subnet needs --vpn-endpoint/);
});

test('agent: --vpn off|apply|simulate and --vpn-interface are validated', () => {
  assert.equal(loadAgentConfig([], {}).vpn, { mode: 'off', ifname: 'edgehook0' });
  assert.equal(loadAgentConfig(['--vpn', 'simulate', '--vpn-interface', 'wg-eh'], {}).vpn, { mode: 'simulate', ifname: 'wg-eh' });
  assert.equal(loadAgentConfig([], { EDGEHOOK_VPN: 'apply' }).vpn.mode, 'apply');
  assert.throws(() => loadAgentConfig(['--vpn', 'on'], {}), /--vpn="on": Invalid option: expected one of "off"\|"apply"\|"simulate"/);
  assert.throws(() => loadAgentConfig(['--vpn-interface', 'a-very-long-interface-name'], {}), /--vpn-interface=.*1-15 letters/);
  assert.throws(() => loadAgentConfig(['--vpn-interface', '../etc'], {}), /--vpn-interface/);
});

test.run();
