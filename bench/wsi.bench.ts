/**
 * Quix WSI gateway benchmark: a real control plane (own process), the example WSI backend
 * (examples/edgehook-wsi-backend, own process, on /wsi) and, as the reference in the same run, a real
 * agent (own process, over MQTT). The same REST calls, one at a time, against each device:
 *   - POST /api/devices/:id/ping            (WSI: a websocket ping; MQTT: the ping RPC)
 *   - GET  /api/devices/:id/processes       (WSI: view_running; MQTT: processes.list)
 *   - POST /api/devices/:id/telemetry/snapshot {stat_types: [ttl_mem_usage]}  (the Quix telemetry verb)
 * Calls alternate between the two devices, so load on the shared machine hits both alike.
 *
 *   node --import tsx bench/wsi.bench.ts      (or: npm run bench -- wsi)
 *
 * Size: EDGEHOOK_BENCH_WSI_CALLS (300 per call and device).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './lib/api.js';
import { freePort, REPO_ROOT, startControlPlaneProcess, startEnrolledAgent, startProcess, waitFor, type RunningProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, revision, summarize, writeResults, type Row, type Summary } from './lib/report.js';

const CALLS = envNumber('EDGEHOOK_BENCH_WSI_CALLS', 300);
const ADMIN_PASSWORD = 'bench-admin-password';
const BACKEND_PASSWORD = 'bench-backend-password';
const log = (msg: string): void => console.log(`[wsi ${new Date().toISOString().slice(11, 19)}] ${msg}`);

const CALLS_UNDER_TEST: Array<{ name: string; method: string; path: (id: string) => string; body?: unknown }> = [
  { name: 'ping', method: 'POST', path: (id) => `/api/devices/${id}/ping` },
  { name: 'view_running', method: 'GET', path: (id) => `/api/devices/${id}/processes` },
  { name: 'telemetry', method: 'POST', path: (id) => `/api/devices/${id}/telemetry/snapshot`, body: { stat_types: ['ttl_mem_usage'] } },
];

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-bench-wsi-'));
  const procs: RunningProcess[] = [];
  try {
    const cp = await startControlPlaneProcess({ port: await freePort(), mqttPort: await freePort(), dataDir: join(dir, 'data'), adminPassword: ADMIN_PASSWORD, env: { EDGEHOOK_WSI_TELEMETRY_INTERVAL: '0' } });
    procs.push(cp);
    const api = new ApiClient(cp.url);
    await api.login(ADMIN_PASSWORD);
    await api.expect(201, 'POST', '/api/roles', { name: 'backends', permissions: ['devices.backend'] });
    await api.expect(201, 'POST', '/api/users', { username: 'bench-backend', password: BACKEND_PASSWORD, roleName: 'backends' });
    const { agent, deviceId: agentId } = await startEnrolledAgent(api, { stateDir: join(dir, 'agent'), hostname: 'bench-agent' });
    procs.push(agent);
    const backend = startProcess('wsi-backend', [join(REPO_ROOT, 'examples/edgehook-wsi-backend/backend.mjs'), '--server', `${cp.url.replace(/^http/, 'ws')}/wsi`, '--username', 'bench-backend', '--state', join(dir, 'token.json')], { EDGEHOOK_WSI_PASSWORD: BACKEND_PASSWORD });
    procs.push(backend);
    const wsiId = await waitFor('wsi backend online', async () => {
      const { body } = await api.call<Array<{ id: string; online: boolean; transport?: string }>>('GET', '/api/devices');
      return Array.isArray(body) ? body.find((d) => d.transport === 'wsi' && d.online)?.id : undefined;
    }, 30_000);
    log(`agent ${agentId}, wsi backend ${wsiId}; ${CALLS} calls per verb and device`);

    const results: Record<string, Record<string, Summary>> = {};
    const rows: Row[] = [];
    for (const call of CALLS_UNDER_TEST) {
      const times: Record<'mqtt' | 'wsi', number[]> = { mqtt: [], wsi: [] };
      for (let i = 0; i < CALLS; i++) {
        for (const [kind, id] of [['mqtt', agentId], ['wsi', wsiId]] as const) {
          const started = performance.now();
          const res = await api.call(call.method, call.path(id), call.body);
          if (res.status !== 200) throw new Error(`${call.name} on ${kind}: ${res.status} ${JSON.stringify(res.body)}`);
          times[kind].push(performance.now() - started);
        }
      }
      results[call.name] = { mqtt: summarize(times.mqtt), wsi: summarize(times.wsi) };
      for (const kind of ['wsi', 'mqtt'] as const) {
        const s = results[call.name]?.[kind];
        if (s) rows.push({ metric: `${call.name} via ${kind === 'wsi' ? 'WSI backend' : 'MQTT agent (reference)'}: p50 / p90 / p99 ms`, value: `${fmt(s.p50, 2)} / ${fmt(s.p90, 2)} / ${fmt(s.p99, 2)}` });
      }
    }
    printTable(`Quix WSI gateway, HTTP round trip, ${CALLS} calls each`, rows);
    const path = writeResults('wsi', { calls: CALLS, results, machine: machine(), revision: revision() });
    log(`results: ${path}`);
  } finally {
    for (const p of procs.reverse()) await p.stop(5000);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
