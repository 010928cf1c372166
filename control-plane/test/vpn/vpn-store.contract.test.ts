import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hashSecret } from '../../src/db/ids.js';
import { deleteDevice, insertDevice } from '../../src/devices/devices.repository.js';
import { addressPool } from '../../src/vpn/address-pool.js';
import { allocateVpnAddress, countVpnPeers, findVpnPeer, listVpnPeers, recordVpnStatus, setVpnPeerKey, storedVpnStatus } from '../../src/vpn/vpn.repository.js';
import { storeFixtures } from '../helpers/stores.js';

// The VPN peers' contract, the same on SQLite and PostgreSQL (issue 18).
const { fixtures, skipped } = await storeFixtures();
for (const s of skipped) console.log(`  (vpn store contract skipped for ${s})`);

const description = { hostname: 'pi', profile: 'simulated', agentVersion: '1', hardware: { arch: 'arm64', platform: 'linux', cpus: 4, memTotalBytes: 1 } };
const T0 = Date.parse('2026-01-01T00:00:00Z');
const KEY = 'H3FabOMBO/zMszFWmg103TpEImaHJ9riEwyProS1gmE=';

for (const store of fixtures) {
  test(`${store.name}: VPN addresses are stable, distinct under concurrency, exhausted with a clear error and freed with the device`, async () => {
    const db = await store.open();
    const pool = addressPool('10.87.0.0/29'); // 5 device addresses: .2 to .6
    for (let i = 1; i <= 7; i++) await insertDevice(db, { id: `d${i}`, name: `pi-${i}`, secretHash: hashSecret('s'), description, tags: [], enrollmentTokenId: 't' }, T0);
    const first = await allocateVpnAddress(db, 'd1', pool, T0);
    assert.is(first.address, '10.87.0.2');
    assert.is((await allocateVpnAddress(db, 'd1', pool, T0 + 1)).address, '10.87.0.2', 'stable');
    // Four devices at once: four different addresses, none lost.
    const many = await Promise.all(['d2', 'd3', 'd4', 'd5'].map((id) => allocateVpnAddress(db, id, pool, T0 + 2)));
    assert.equal(many.map((p) => p.address).sort(), ['10.87.0.3', '10.87.0.4', '10.87.0.5', '10.87.0.6']);
    assert.is(await countVpnPeers(db, pool.cidr), 5);
    let full = '';
    await allocateVpnAddress(db, 'd6', pool, T0 + 3).catch((err: Error) => (full = err.message));
    assert.match(full, /the VPN address pool 10\.87\.0\.0\/29 is full \(5 device addresses\).*larger --vpn-subnet/);
    // Deleting a device frees its address (the row goes with it) for the next one.
    const holder = (await listVpnPeers(db)).find((p) => p.address === '10.87.0.4');
    assert.ok(holder);
    assert.ok(await deleteDevice(db, holder.device_id));
    assert.is(await findVpnPeer(db, holder.device_id), undefined);
    assert.is((await allocateVpnAddress(db, 'd6', pool, T0 + 4)).address, '10.87.0.4');
    // Keys and status: only a public key is stored.
    await setVpnPeerKey(db, 'd1', KEY, 'device', T0 + 5);
    await recordVpnStatus(db, 'd1', { mode: 'simulate', state: 'up', ifname: 'edgehook0', address: '10.87.0.2/32', publicKey: KEY, latestHandshake: null }, T0 + 6);
    const d1 = await findVpnPeer(db, 'd1');
    assert.is(d1?.public_key, KEY);
    assert.is(d1?.key_source, 'device');
    assert.equal(d1 && storedVpnStatus(d1), { mode: 'simulate', state: 'up', ifname: 'edgehook0', address: '10.87.0.2/32', publicKey: KEY, latestHandshake: null, reportedAt: new Date(T0 + 6).toISOString() });
    const listed = await listVpnPeers(db);
    assert.equal(listed.map((p) => p.address), ['10.87.0.2', '10.87.0.3', '10.87.0.4', '10.87.0.5', '10.87.0.6'], 'in address order');
    assert.is(listed.find((p) => p.device_id === 'd6')?.name, 'pi-6', 'with the device name');
    // Another pool (the subnet changed): the device moves into it and must be issued again.
    const moved = await allocateVpnAddress(db, 'd1', addressPool('10.99.0.0/24'), T0 + 7);
    assert.is(moved.address, '10.99.0.2');
    assert.is(moved.public_key, null);
    assert.is(await countVpnPeers(db, pool.cidr), 4);
  });
}

test.after(async () => {
  for (const s of fixtures) await s.close();
});

test.run();
