import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Sample } from '@edgehook/shared';
import { allCollectors, cpuCollector, diskCollector, memoryCollector, networkCollector, systemCollector, thermalCollector, throttlingCollector, wireguardCollector, type CollectorEnv } from '../../src/telemetry/collectors.js';
import { parseMounts, parseNetDev, parseProcStat, parseThrottled, parseWgDump } from '../../src/telemetry/proc-parsers.js';
import { telemetrySnapshot } from '../../src/telemetry/snapshot.js';

const env: CollectorEnv = { root: '/', thermalZones: [], vcgencmd: true };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const values = (samples: Sample[], m: string) => samples.filter((s) => s.m === m);

test('cpu: total and per-core usage from two real /proc/stat readings', async () => {
  const c = cpuCollector(env);
  assert.equal(await c.collect(Date.now()), [], 'the first reading has nothing to compare with');
  // Burn a little CPU so the difference is never empty.
  const until = Date.now() + 150;
  while (Date.now() < until);
  const samples = await c.collect(Date.now());
  const total = values(samples, 'cpu.usage');
  assert.is(total.length, 1);
  assert.ok((total[0]?.v ?? -1) >= 0 && (total[0]?.v ?? 101) <= 100);
  const cores = values(samples, 'cpu.core.usage');
  const online = parseProcStat(readFileSync('/proc/stat', 'utf8')).filter((l) => l.name !== 'cpu').length;
  assert.is(cores.length, online);
  assert.ok(cores.length <= cpus().length);
  assert.equal(cores.map((s) => s.l?.['core']), cores.map((_, i) => String(i)));
});

test('memory: used + buff/cache + free add up to the total', async () => {
  const s = await memoryCollector(env).collect(Date.now());
  const get = (m: string) => values(s, m)[0]?.v ?? NaN;
  assert.ok(get('mem.total') > 0);
  assert.is(get('mem.used') + get('mem.buff_cache') + get('mem.free'), get('mem.total'));
});

test('disk: the root file system, per mount, with used and free bytes', async () => {
  const s = await diskCollector(env).collect(Date.now());
  const mounts = parseMounts(readFileSync('/proc/mounts', 'utf8'));
  const used = values(s, 'disk.used');
  assert.ok(used.length > 0 || mounts.length === 0);
  for (const u of used) {
    assert.type(u.l?.['mount'], 'string');
    assert.ok(u.v >= 0);
  }
  assert.ok(values(s, 'disk.free').every((f) => f.v >= 0));
});

test('network: counters for every interface but lo, then rates', async () => {
  const n = networkCollector(env);
  const first = await n.collect(Date.now());
  const ifaces = parseNetDev(readFileSync('/proc/net/dev', 'utf8')).filter((i) => i.iface !== 'lo');
  assert.is(values(first, 'net.rx_bytes').length, ifaces.length);
  assert.is(values(first, 'net.rx_bps').length, 0);
  await sleep(50);
  const second = await n.collect(Date.now() + 1000);
  assert.is(values(second, 'net.rx_bps').length, ifaces.length);
  assert.ok(values(second, 'net.tx_bps').every((r) => r.v >= 0));
});

test('system: load averages and uptime', async () => {
  const s = await systemCollector(env).collect(Date.now());
  assert.equal(s.map((x) => x.m), ['load.1', 'load.5', 'load.15', 'uptime.seconds']);
  assert.ok((values(s, 'uptime.seconds')[0]?.v ?? 0) > 0);
});

test('absent sources are skipped, not faked: thermal zones, vcgencmd, wireguard', async () => {
  const thermal = await thermalCollector(env).collect(Date.now());
  const zones = existsSync('/sys/class/thermal') ? readdirSync('/sys/class/thermal').filter((z) => z.startsWith('thermal_zone') && existsSync(`/sys/class/thermal/${z}/temp`)) : [];
  if (zones.length === 0) assert.equal(thermal, []);
  else assert.ok(values(thermal, 'temp.max').length === 1);
  const hasVcgencmd = ['/usr/bin/vcgencmd', '/opt/vc/bin/vcgencmd'].some((p) => existsSync(p));
  if (!hasVcgencmd) assert.equal(await throttlingCollector(env).collect(Date.now()), []);
  assert.equal(await throttlingCollector({ ...env, vcgencmd: false }).collect(Date.now()), []);
  const wg = await wireguardCollector(env).collect(Date.now());
  assert.ok(wg.every((s) => s.m.startsWith('vpn.')));
  // A root without /proc at all: every collector answers with nothing.
  const empty: CollectorEnv = { root: '/nonexistent-root', thermalZones: [], vcgencmd: false };
  for (const c of Object.values(allCollectors(empty))) assert.equal(await c.collect(Date.now()), [], c.name);
});

test('profile thermal zones and sensors count; temp.max is the hottest', async () => {
  const zonesEnv: CollectorEnv = { root: '/nonexistent-root', thermalZones: [], vcgencmd: false, readSensors: async () => [{ name: 'board', metric: 'temp.board', value: 48.5 }, { name: 'broken', metric: 'temp.x', value: null }] };
  const s = await thermalCollector(zonesEnv).collect(Date.now());
  assert.equal(s, [{ m: 'temp.board', v: 48.5, l: { sensor: 'board' } }, { m: 'temp.max', v: 48.5 }]);
});

test('parsers: wg dump, vcgencmd flags, mounts with escapes', () => {
  const dump = 'wg0\tPRIV\tPUB\t51820\toff\nwg0\tPEER\t(none)\t203.0.113.5:51820\t10.8.0.0/24\t1700000000\t100\t200\t25\n';
  assert.equal(parseWgDump(dump), { interfaces: ['wg0'], peers: [{ iface: 'wg0', endpoint: '203.0.113.5:51820', latestHandshake: 1700000000, rxBytes: 100, txBytes: 200 }] });
  assert.is(parseThrottled('throttled=0x50005\n'), 0x50005);
  assert.is(parseThrottled('error'), undefined);
  assert.equal(parseMounts('/dev/sda1 /mnt/my\\040disk ext4 rw 0 0\nproc /proc proc rw 0 0\n/dev/sda1 /again ext4 rw 0 0\n'), [{ device: '/dev/sda1', mountpoint: '/mnt/my disk', fstype: 'ext4' }]);
});

test('the Quix telemetry snapshot answers the requested stat types', async () => {
  const snap = await telemetrySnapshot(env, ['ttl_cpu_usage', 'ttl_mem_usage', 'disk_util', 'vpn_status']);
  const t = snap.tele_data;
  assert.ok((t.ttl_cpu_usage ?? []).length > 0 && (t.ttl_cpu_usage ?? []).every((v) => v >= 0 && v <= 1));
  assert.is(t.ttl_mem_usage?.length, 3);
  assert.type(t.disk_util, 'object');
  assert.ok(t.vpn_status === null || typeof t.vpn_status?.ifname === 'string');
  const only = await telemetrySnapshot(env, ['ttl_mem_usage']);
  assert.equal(Object.keys(only.tele_data), ['ttl_mem_usage']);
});

test.run();
