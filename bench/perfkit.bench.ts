/**
 * Perfkit image benchmark: a session's 1280x720 JPEG (the KVM test pattern) fetched through a real
 * control plane (own process) from a real agent (own process), the latest frame (the device asked
 * every time, over the `perfkit-image` stream) against a frame by seq that the control plane has
 * cached (the seed's sequence ids: the device is not asked).
 *
 *   node --import tsx bench/perfkit.bench.ts     (or: npm run bench -- perfkit)
 *
 * Reference in the same run: the device ping RTT through the same broker.
 * Sizes: EDGEHOOK_BENCH_PERFKIT_REQUESTS (200).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestPattern } from '../agent/src/hardware/video/test-pattern.js';
import { ApiClient } from './lib/api.js';
import { freePort, startControlPlaneProcess, startEnrolledAgent, waitFor, type ControlPlaneProcess, type RunningProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, summarize, writeResults, type Row } from './lib/report.js';
import { sampleInterleaved } from './lib/sampling.js';

const N = envNumber('EDGEHOOK_BENCH_PERFKIT_REQUESTS', 200);
const ADMIN_PASSWORD = 'bench-admin-password';
const log = (msg: string): void => console.log(`[perfkit ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** GET a JPEG; resolves its status, size and X-Perfkit-Cache. */
function getImage(base: string, path: string, token: string): Promise<{ status: number; bytes: number; cache: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, cache: String(res.headers['x-perfkit-cache'] ?? '') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-perfkit-'));
  const stateDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-perfkit-agent-'));
  const [port, mqttPort, localPort] = [await freePort(), await freePort(), await freePort()];
  let cp: ControlPlaneProcess | undefined;
  let agent: RunningProcess | undefined;
  let api: ApiClient | undefined;
  const results: Record<string, unknown> = { bench: 'perfkit', startedAt: new Date().toISOString(), machine: machine(), config: { requests: N, resolution: '1280x720' } };
  try {
    cp = await startControlPlaneProcess({ port, mqttPort, dataDir, adminPassword: ADMIN_PASSWORD });
    api = new ApiClient(cp.url, '', 8);
    await api.login(ADMIN_PASSWORD);
    const enrolled = await startEnrolledAgent(api, { stateDir, hostname: 'bench-perfkit', args: ['--telemetry-port', String(localPort)] });
    agent = enrolled.agent;
    const { deviceId } = enrolled;
    const local = `http://127.0.0.1:${localPort}`;
    const session = await waitFor('the local endpoint', async () => {
      const r = await fetch(`${local}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', pid: process.pid }) }).catch(() => undefined);
      return r?.status === 201 ? ((await r.json()) as { id: string }) : undefined;
    }, 30_000);
    const jpeg = new TestPattern(1280, 720).render(1, Date.now(), 80);
    await fetch(`${local}/v1/sessions/${session.id}/images/view`, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
    const path = `/api/devices/${deviceId}/sessions/${session.id}/images/view`;
    await waitFor('the session at the control plane', async () => (await getImage(cp!.url, path, api!.token)).status === 200, 30_000);
    log(`frame of ${jpeg.length} bytes; ${N} requests each`);

    const check = (expect: string) => async () => {
      const r = await getImage(cp!.url, `${path}${expect === 'hit' ? '?seq=1' : ''}`, api!.token);
      if (r.status !== 200 || r.cache !== expect || r.bytes !== jpeg.length) throw new Error(`expected a ${expect}, got ${JSON.stringify(r)}`);
    };
    // Interleaved, so the machine's load (shared, 2 cores) falls on all three alike.
    const [pings = [], latest = [], cached = []] = await sampleInterleaved(N, [() => api!.expect(200, 'POST', `/api/devices/${deviceId}/ping`), check('miss'), check('hit')]);
    const [p, l, c] = [summarize(pings), summarize(latest), summarize(cached)];
    Object.assign(results, { frameBytes: jpeg.length, pingMs: p, latestMs: l, cachedMs: c });
    const rows: Row[] = [
      { metric: 'latest frame from the device p50 / p99', value: `${fmt(l.p50, 2)} / ${fmt(l.p99, 2)} ms` },
      { metric: 'frame by seq from the cache p50 / p99', value: `${fmt(c.p50, 2)} / ${fmt(c.p99, 2)} ms` },
      { metric: 'frame size (test pattern, quality 80)', value: `${jpeg.length} B` },
      { metric: 'reference: device ping p50 / p99 (same run)', value: `${fmt(p.p50, 2)} / ${fmt(p.p99, 2)} ms` },
    ];
    results['rows'] = rows;
    printTable('Perfkit interactive image: latest (device) vs by seq (cache)', rows);
    console.log(`\nresults: ${writeResults('perfkit', results)}`);
  } finally {
    api?.close();
    await agent?.stop(5000);
    await cp?.stop(10_000);
    await rm(dataDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
