import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { adminApi, apiClient, ADMIN_PASSWORD, cleanup, login, startTestControlPlane, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { enrollDevice, type TestDevice } from './device-client.js';
import { havePromtool, promtoolCheck } from '../helpers/promtool.js';

const t = suite<{ cp: TestControlPlane; api: Api; a: TestDevice; b: TestDevice; t0: number }>('telemetry api');

const MIN = 60_000;

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.a = await enrollDevice(ctx.api, 'alpha', ['lab']);
  ctx.b = await enrollDevice(ctx.api, 'beta');
  // Known data: 30 minutes at 10 s, starting on a minute boundary 2 hours ago.
  ctx.t0 = Math.floor((Date.now() - 2 * 3600_000) / MIN) * MIN;
  for (let i = 0; i < 180; i++) {
    await ctx.a.publish({ seq: i, ts: ctx.t0 + i * 10_000, samples: [{ m: 'cpu.usage', v: i }, { m: 'cpu.core.usage', v: i, l: { core: '0' } }, { m: 'cpu.core.usage', v: 2 * i, l: { core: '1' } }, { m: 'temp.max', v: 40 }] });
  }
  await ctx.b.publish({ seq: 0, ts: Date.now(), samples: [{ m: 'temp.max', v: 70.5 }, { m: 'cpu.usage', v: 5 }, { m: 'mem.total', v: 4e9 }, { m: 'net.rx_bytes', v: 1e6, l: { iface: 'eth0' } }, { m: 'net.rx_bps', v: 12_345.5, l: { iface: 'eth0' } }, { m: 'trace.app.requests_total', v: 3 }, { m: 'trace.app.queue', v: 7 }] });
  await waitFor('samples stored', async () => (await ctx.api.request('GET', `/api/telemetry/latest?metric=temp.max`)).body?.entries?.length === 2);
});

t.after(async (ctx) => {
  await ctx.a.close();
  await ctx.b.close();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

const series = (body: any, labels: Record<string, string> = {}) => body.series.find((s: any) => JSON.stringify(s.labels) === JSON.stringify(labels));

t('raw query: aligned 10 s buckets with the known values', async ({ api, a, t0 }) => {
  const res = await api.request('GET', `/api/devices/${a.deviceId}/telemetry?metric=cpu.usage&from=${t0}&to=${t0 + 10 * 10_000}&step=10s&agg=avg`);
  assert.is(res.status, 200, JSON.stringify(res.body));
  assert.is(res.body.source, 'raw');
  assert.is(res.body.from, t0);
  const points = series(res.body).points;
  assert.is(points.length, 10);
  assert.equal(points[0], [t0, 0]);
  assert.equal(points[9], [t0 + 90_000, 9]);
});

t('aggregation over 1 minute steps: avg, min, max, last, count', async ({ api, a, t0 }) => {
  // Rollups are written by a periodic job; raw data answers sub-minute steps, so ask 30 s.
  const q = (agg: string) => api.request('GET', `/api/devices/${a.deviceId}/telemetry?metric=cpu.usage&from=${t0}&to=${t0 + 2 * MIN}&step=30s&agg=${agg}`);
  const expect: Record<string, number[]> = { avg: [1, 4, 7, 10], min: [0, 3, 6, 9], max: [2, 5, 8, 11], last: [2, 5, 8, 11], count: [3, 3, 3, 3], sum: [3, 12, 21, 30] };
  for (const [agg, values] of Object.entries(expect)) {
    const res = await q(agg);
    assert.is(res.status, 200);
    assert.equal(series(res.body).points.map((p: [number, number]) => p[1]), values, agg);
  }
});

t('misaligned from snaps to the step; empty buckets are null; label filter picks one series', async ({ api, a, t0 }) => {
  const res = await api.request('GET', `/api/devices/${a.deviceId}/telemetry?metric=cpu.core.usage&from=${t0 - 25_000}&to=${t0 + 20_000}&step=10s&agg=max&label=core=1`);
  assert.is(res.status, 200, JSON.stringify(res.body));
  assert.is(res.body.from, t0 - 30_000);
  assert.is(res.body.series.length, 1);
  assert.equal(res.body.series[0].labels, { core: '1' });
  assert.equal(res.body.series[0].points.map((p: [number, number]) => p[1]), [null, null, null, 0, 2]);
  const both = await api.request('GET', `/api/devices/${a.name}/telemetry?metric=cpu.core.usage&from=${t0}&to=${t0 + 10_000}&step=10s`);
  assert.is(both.body.series.length, 2);
});

t('redelivered and replayed batches are stored once', async ({ api, a, t0 }) => {
  const batch = { seq: 5, ts: t0 + 50_000, samples: [{ m: 'cpu.usage', v: 999 }] };
  await a.publish(batch);
  await a.publish({ ...batch, replay: true });
  await a.publish({ seq: 1000, ts: t0 + 50_000 + 1, samples: [{ m: 'dup.check', v: 1 }] });
  await a.publish({ seq: 1000, ts: t0 + 50_000 + 1, samples: [{ m: 'dup.check', v: 1 }] });
  await waitFor('marker stored', async () => (await api.request('GET', `/api/devices/${a.deviceId}/telemetry/metrics`)).body.metrics.some((m: any) => m.metric === 'dup.check'));
  const res = await api.request('GET', `/api/devices/${a.deviceId}/telemetry?metric=cpu.usage&from=${t0 + 50_000}&to=${t0 + 60_000}&step=10s&agg=count`);
  assert.equal(series(res.body).points, [[t0 + 50_000, 1]]);
  const value = await api.request('GET', `/api/devices/${a.deviceId}/telemetry?metric=cpu.usage&from=${t0 + 50_000}&to=${t0 + 60_000}&step=10s&agg=max`);
  assert.equal(series(value.body).points, [[t0 + 50_000, 5]], 'the first copy wins; the duplicate is ignored');
  const dup = await api.request('GET', `/api/devices/${a.deviceId}/telemetry?metric=dup.check&from=${t0}&to=${t0 + MIN}&step=1m&agg=count`);
  assert.is(dup.status, 200);
});

t('bad queries get clear 400s', async ({ api, a }) => {
  const base = `/api/devices/${a.deviceId}/telemetry`;
  const cases: Array<[string, RegExp]> = [
    [`${base}?metric=no.such.metric`, /has not reported the metric no\.such\.metric; it reports: .*cpu\.usage/],
    [`${base}`, /metric is required/],
    [`${base}?metric=Bad Metric`, /not a metric name/],
    [`${base}?metric=cpu.usage&from=-1h&to=-2h`, /must be before/],
    [`${base}?metric=cpu.usage&step=0`, /step must be at least 1s/],
    [`${base}?metric=cpu.usage&step=0s`, /step must be at least 1s/],
    [`${base}?metric=cpu.usage&step=fast`, /step must be a duration/],
    [`${base}?metric=cpu.usage&from=-30d&step=10s`, /at most 11000 per query/],
    [`${base}?metric=cpu.usage&agg=median`, /agg must be one of/],
    [`${base}?metric=cpu.usage&from=yesterday`, /from must be now, a relative time/],
    [`${base}?metric=cpu.usage&label=core`, /label filters look like/],
  ];
  for (const [path, message] of cases) {
    const res = await api.request('GET', path);
    assert.is(res.status, 400, path);
    assert.is(res.body.error.code, 'BAD_REQUEST');
    assert.match(res.body.error.message, message, path);
  }
  assert.is((await api.request('GET', '/api/devices/nope/telemetry?metric=cpu.usage')).status, 404);
  assert.is((await api.request('GET', '/api/telemetry/latest')).status, 400);
  assert.is((await api.request('GET', '/api/telemetry/latest?metric=temp.max&sort=up')).status, 400);
  assert.is((await api.request('GET', '/api/telemetry/latest?metric=temp.max&limit=0')).status, 400);
});

t('metric list per device', async ({ api, a }) => {
  const res = await api.request('GET', `/api/devices/${a.deviceId}/telemetry/metrics`);
  assert.is(res.status, 200);
  const cores = res.body.metrics.find((m: any) => m.metric === 'cpu.core.usage');
  assert.is(cores.series, 2);
  assert.ok(res.body.metrics.some((m: any) => m.metric === 'temp.max'));
});

t('fleet latest: sorted, limited, filtered by tag', async ({ api, a, b }) => {
  const hot = await api.request('GET', '/api/telemetry/latest?metric=temp.max&sort=desc&limit=1');
  assert.is(hot.status, 200);
  assert.equal(hot.body.entries.map((e: any) => [e.device, e.value]), [[b.name, 70.5]]);
  const cold = await api.request('GET', '/api/telemetry/latest?metric=temp.max&sort=asc');
  assert.equal(cold.body.entries.map((e: any) => e.deviceId), [a.deviceId, b.deviceId]);
  const lab = await api.request('GET', '/api/telemetry/latest?metric=temp.max&tag=lab');
  assert.equal(lab.body.entries.map((e: any) => e.deviceId), [a.deviceId]);
  const core = await api.request('GET', '/api/telemetry/latest?metric=cpu.core.usage&label=core=1');
  assert.equal(core.body.entries.map((e: any) => e.value), [2 * 179]);
});

t('prometheus text with device labels, over Basic auth', async ({ cp, a, b }) => {
  const basic = 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
  const res = await fetch(cp.url + '/api/export/prometheus/metrics', { headers: { authorization: basic } });
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /# TYPE edgehook_temp_max_celsius gauge\n/);
  assert.ok(text.includes(`edgehook_temp_max_celsius{device="${b.name}",device_id="${b.deviceId}"} 70.5\n`), text);
  // Device a's data is 2 hours old: stale values are left out.
  assert.not.ok(text.includes(`edgehook_temp_max_celsius{device="${a.name}"`));
  // This test client never publishes presence, so the device reads offline.
  assert.ok(text.includes(`edgehook_device_online{device="${a.name}",device_id="${a.deviceId}"} 0\n`), text);
  for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*\{[^}]*\} -?[0-9.e+-]+$/, line);
  const one = await fetch(cp.url + `/api/devices/${b.name}/export/prometheus/metrics`, { headers: { authorization: basic } });
  assert.is(one.status, 200);
  const oneText = await one.text();
  assert.ok(oneText.includes(`edgehook_temp_max_celsius{device="${b.name}",device_id="${b.deviceId}"} 70.5\n`));
  assert.not.ok(oneText.includes(a.deviceId), 'only the one device');
  // Both export endpoints pass Prometheus' own checker (names, units, _total, HELP on every family).
  if (havePromtool()) {
    for (const [what, body] of [['fleet', text], ['one device', oneText]]) {
      const checked = await promtoolCheck(body);
      assert.is(checked.code, 0, `${what}: promtool check metrics: ${checked.output}\n${body}`);
    }
  }
  // Every family has HELP and TYPE, and no gauge ends in _total (edgehook_mem_total was one).
  assert.ok(text.includes(`edgehook_mem_size_bytes{device="${b.name}",device_id="${b.deviceId}"} 4000000000\n`), text);
  assert.match(text, /# TYPE edgehook_net_receive_bytes_total counter\n/);
  assert.match(text, /# TYPE edgehook_net_receive_bytes_per_second gauge\n/);
  assert.match(text, /# TYPE edgehook_trace_app_requests_total counter\n/);
  assert.match(text, /# TYPE edgehook_trace_app_queue gauge\n/);
  const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
  assert.ok(families.length >= 3, text);
  for (const [name, type] of families) {
    assert.ok(text.includes(`# HELP ${name} `), `HELP for ${name}`);
    if (type !== 'counter') assert.not.match(name ?? '', /_total$/, `${name} is a ${type}`);
  }
  assert.is((await fetch(cp.url + '/api/export/prometheus/metrics')).status, 401);
  assert.is((await fetch(cp.url + '/api/export/prometheus/metrics', { headers: { authorization: 'Basic ' + Buffer.from('admin:wrong').toString('base64') } })).status, 403);
});

t('telemetry.read is required for every telemetry route and the live socket', async ({ cp, api, a }) => {
  assert.is((await api.request('POST', '/api/roles', { name: 'devreaders', permissions: ['devices.read'] })).status, 201);
  assert.is((await api.request('POST', '/api/users', { username: 'nora', password: 'nora-password', roleName: 'devreaders' })).status, 201);
  const nora = apiClient(cp.url, (await login(cp.url, 'nora', 'nora-password')).accessToken);
  for (const path of [`/api/devices/${a.deviceId}/telemetry?metric=cpu.usage`, `/api/devices/${a.deviceId}/telemetry/metrics`, '/api/telemetry/latest?metric=temp.max', '/api/export/prometheus/metrics', `/api/devices/${a.deviceId}/export/prometheus/metrics`, `/api/devices/${a.deviceId}/traces`, '/api/telemetry/stats']) {
    const res = await nora.request('GET', path);
    assert.is(res.status, 403, path);
    assert.match(res.body.error.message, /telemetry\.read/);
  }
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${cp.url.replace('http', 'ws')}/api/telemetry/live?device=${a.deviceId}`, { headers: { authorization: `Bearer ${nora.token}` } });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => resolve(101));
    ws.on('error', () => undefined);
  });
  assert.is(status, 403);
});

t('live socket streams a device\'s new samples, filtered by metric', async ({ cp, a }) => {
  const token = (await login(cp.url)).accessToken;
  const ws = new WebSocket(`${cp.url.replace('http', 'ws')}/api/telemetry/live?device=${a.name}&metric=live.*`, { headers: { authorization: `Bearer ${token}` } });
  const frames: any[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await waitFor('hello', () => frames.some((f) => f.type === 'hello'));
  await a.publish({ seq: 2000, ts: Date.now(), samples: [{ m: 'live.value', v: 42 }, { m: 'other.value', v: 1 }] });
  const got = await waitFor('samples frame', () => frames.find((f) => f.type === 'samples'));
  assert.equal(got.samples, [{ m: 'live.value', v: 42 }]);
  assert.is(got.deviceId, a.deviceId);
  ws.close();
});

t('traces: groups, fetch', async ({ api, a }) => {
  const now = Date.now();
  await a.publish({ seq: 3000, ts: now, samples: [{ m: 'trace.app.latency_ms', v: 12, t: now - 1000 }, { m: 'trace.app.latency_ms', v: 14, t: now }, { m: 'trace.app.queue', v: 3, t: now }] });
  await waitFor('trace stored', async () => (await api.request('GET', `/api/devices/${a.deviceId}/traces`)).body.groups?.length === 1);
  const groups = await api.request('GET', `/api/devices/${a.deviceId}/traces`);
  assert.equal(groups.body.groups[0].group, 'app');
  assert.equal(groups.body.groups[0].series, ['latency_ms', 'queue']);
  const group = await api.request('GET', `/api/devices/${a.deviceId}/traces/app?from=-1m`);
  assert.is(group.status, 200);
  const latency = group.body.series.find((s: any) => s.name === 'latency_ms');
  assert.equal(latency.points, [[now - 1000, 12], [now, 14]]);
  assert.is((await api.request('GET', `/api/devices/${a.deviceId}/traces/nogroup`)).status, 404);
  assert.is((await api.request('GET', `/api/devices/${a.deviceId}/traces/Bad-Group`)).status, 400);
});

t.run();
