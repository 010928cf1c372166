/**
 * The console's fleet page with many devices, in Chromium (playwright-core, /usr/bin/chromium):
 * first render and live presence, measured in the page with the Performance API.
 *
 *   node --import tsx bench/fleet-page.bench.ts      (or: npm run bench -- fleet-page)
 *
 * A real control plane (own process, SQLite) with EDGEHOOK_BENCH_PAGE_DEVICES (10000) devices: the
 * rows enrollment makes written into the store first (bench/lib/bulk-provision.ts), 10 enrolled over
 * POST /api/enroll (no agents: all offline). The browser logs in once, then:
 * - First render, EDGEHOOK_BENCH_PAGE_LOADS (5) fresh loads of `/`: first contentful paint (the
 *   console shell; the same-run reference) and "first useful paint", the first frame after the
 *   first device row is in the DOM (MutationObserver + requestAnimationFrame), both from navigation
 *   start; long tasks (PerformanceObserver 'longtask') during the load.
 * - Live presence: EDGEHOOK_BENCH_PAGE_EVENTS_PER_S (1000) device.online/offline events a second for
 *   EDGEHOOK_BENCH_PAGE_EVENT_SECONDS (10), dispatched in the page on its real /api/events socket (the
 *   console's own onmessage handler runs, as for frames from the server; a sender outside the page
 *   reached only 500-665/s on this machine). Long tasks,
 *   the longest gap between animation frames, and whether the rows show the last state sent.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { browserAvailable, launchBrowser } from '../control-plane/test/web/browser.js';
import { ApiClient } from './lib/api.js';
import { bulkDevices, insertIntoStore } from './lib/bulk-provision.js';
import { freePort, sleep, startControlPlaneProcess, waitFor, type ControlPlaneProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, summarize, writeResults, type Row } from './lib/report.js';

const DEVICES = envNumber('EDGEHOOK_BENCH_PAGE_DEVICES', 10_000);
const LOADS = envNumber('EDGEHOOK_BENCH_PAGE_LOADS', 5);
const EVENTS_PER_S = envNumber('EDGEHOOK_BENCH_PAGE_EVENTS_PER_S', 1000);
const EVENT_S = envNumber('EDGEHOOK_BENCH_PAGE_EVENT_SECONDS', 10);
const ADMIN_PASSWORD = 'bench-admin-password';
/** A directory: the page's CPU profile (CDP Profiler, .cpuprofile) of each phase is written there. */
const PROFILE_DIR = process.env['EDGEHOOK_BENCH_PAGE_PROFILE'];

const log = (msg: string): void => console.log(`[fleet-page ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** Installed before the console's own code on every load: what the page measures about itself. */
const PROBE = `(() => {
  const m = { longTasks: [], firstRowAt: null, fcp: null, frameGaps: [], lastFrame: 0, list: null, sockets: [] };
  window.__bench = m;
  // The console's sockets, so the bench can deliver events through the events socket's own handler.
  const Native = window.WebSocket;
  window.WebSocket = class extends Native { constructor(...a) { super(...a); m.sockets.push(this); } };
  new PerformanceObserver((list) => { for (const e of list.getEntries()) m.longTasks.push({ start: e.startTime, duration: e.duration }); }).observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') m.fcp = e.startTime; }).observe({ type: 'paint', buffered: true });
  const seen = () => {
    if (m.firstRowAt !== null || !document.querySelector('.fleet-row')) return false;
    // The frame that shows it: the next animation frame after the row is in the DOM.
    requestAnimationFrame(() => {
      m.firstRowAt = performance.now();
      const r = performance.getEntriesByType('resource').find((e) => new URL(e.name).pathname === '/api/devices');
      if (r) m.list = { startMs: r.startTime, responseStartMs: r.responseStart, responseEndMs: r.responseEnd, bytes: r.encodedBodySize, decodedBytes: r.decodedBodySize };
    });
    return true;
  };
  const mo = new MutationObserver(() => { if (seen()) mo.disconnect(); });
  document.addEventListener('DOMContentLoaded', () => mo.observe(document.body, { childList: true, subtree: true }));
  const tick = (t) => { if (m.lastFrame) m.frameGaps.push(t - m.lastFrame); m.lastFrame = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})();`;

/** Runs in the page (a string: the bench's TypeScript is transformed, the page gets it verbatim). */
const PRESENCE = `async ({ all, hot, rate, seconds }) => {
  const ws = window.__bench.sockets.find((w) => w.url.includes('/api/events') && w.readyState === 1);
  if (!ws) throw new Error('no open /api/events socket in the page');
  const state = {};
  let sent = 0;
  const t0 = performance.now();
  await new Promise((done) => {
    const tick = () => {
      const due = Math.min(Math.round(((performance.now() - t0) / 1000) * rate), rate * seconds);
      for (; sent < due; sent++) {
        const id = (sent % 7 === 0 ? all[Math.floor(Math.random() * all.length)] : hot[Math.floor(Math.random() * hot.length)]) ?? '';
        const online = !(state[id] ?? false);
        state[id] = online;
        ws.dispatchEvent(new MessageEvent('message', { data: JSON.stringify({ type: online ? 'device.online' : 'device.offline', deviceId: id, ts: Date.now() }) }));
      }
      if (sent >= rate * seconds) done();
      else setTimeout(tick, 10);
    };
    tick();
  });
  return { sent, ms: performance.now() - t0, state };
}`;

interface PageStats {
  list: { startMs: number; responseStartMs: number; responseEndMs: number; bytes: number; decodedBytes: number; requests?: number } | null;
  longTasks: Array<{ start: number; duration: number }>;
  firstRowAt: number | null;
  fcp: number | null;
  frameGaps: number[];
}

async function enrollMany(base: string, token: string, count: number, concurrency: number): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const res = await fetch(`${base}/api/enroll`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ hostname: `page-${String(i).padStart(5, '0')}`, profile: 'simulated', agentVersion: 'bench', hardware: { arch: 'x64', platform: 'linux', cpus: 4, memTotalBytes: 4e9 } }),
        });
        if (res.status !== 201) throw new Error(`enroll ${i}: HTTP ${res.status} ${await res.text()}`);
        const body = (await res.json()) as { deviceId: string };
        ids.push(body.deviceId);
      }
    }),
  );
  return ids;
}

/** Starts the page's CPU profiler (when EDGEHOOK_BENCH_PAGE_PROFILE is set); the returned stop writes it. */
async function profile(page: Page, name: string): Promise<() => Promise<void>> {
  if (!PROFILE_DIR) return async () => undefined;
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  return async () => {
    const { profile: p } = await cdp.send('Profiler.stop');
    const file = join(PROFILE_DIR, `fleet-page-${name}.cpuprofile`);
    await writeFile(file, JSON.stringify(p));
    await cdp.detach();
    log(`CPU profile: ${file}`);
  };
}

interface TraceEvent { name: string; ph: string; ts: number; dur?: number; tdur?: number; tid: number; pid: number }
function isTraceEvent(e: unknown): e is TraceEvent {
  return typeof e === 'object' && e !== null && 'name' in e && typeof e.name === 'string' && 'ph' in e && typeof e.ph === 'string' && 'ts' in e && typeof e.ts === 'number' && 'tid' in e && 'pid' in e;
}

/**
 * Records a Chromium trace (when EDGEHOOK_BENCH_PAGE_PROFILE is set): the returned stop writes it and
 * sums each long top-level task (RunTask over 50 ms) by wall time and by the thread's CPU time
 * (`tdur`), with the trace events inside it, so a long task shows whether it worked or waited.
 */
async function trace(page: Page, name: string): Promise<() => Promise<Array<{ wallMs: number; cpuMs: number; inside: string[] }> | undefined>> {
  if (!PROFILE_DIR) return async () => undefined;
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('Tracing.start', { transferMode: 'ReturnAsStream', traceConfig: { includedCategories: ['devtools.timeline', 'v8.execute', 'disabled-by-default-devtools.timeline', 'blink.user_timing'] } });
  return async () => {
    const done = new Promise<string>((resolve) => cdp.once('Tracing.tracingComplete', (e) => resolve(e.stream ?? '')));
    await cdp.send('Tracing.end');
    const handle = await done;
    let text = '';
    for (;;) {
      const chunk = await cdp.send('IO.read', { handle, size: 1 << 20 });
      text += chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString('utf8') : chunk.data;
      if (chunk.eof) break;
    }
    await cdp.send('IO.close', { handle });
    await cdp.detach();
    const file = join(PROFILE_DIR, `fleet-page-${name}.trace.json`);
    await writeFile(file, text);
    const parsed: unknown = JSON.parse(text);
    const raw: unknown[] = Array.isArray(parsed) ? parsed : typeof parsed === 'object' && parsed !== null && 'traceEvents' in parsed && Array.isArray(parsed.traceEvents) ? parsed.traceEvents : [];
    const events = raw.filter(isTraceEvent);
    const long = events.filter((e) => e.name === 'RunTask' && e.ph === 'X' && (e.dur ?? 0) > 50_000);
    const summary = long.map((t) => {
      const inside = new Map<string, number>();
      for (const e of events) if (e.ph === 'X' && e.tid === t.tid && e.pid === t.pid && e !== t && e.ts >= t.ts && e.ts < t.ts + (t.dur ?? 0) && e.name !== 'RunTask') inside.set(e.name, (inside.get(e.name) ?? 0) + (e.dur ?? 0));
      const top = [...inside].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([n, us]) => `${n} ${fmt(us / 1000, 1)}`);
      return { wallMs: (t.dur ?? 0) / 1000, cpuMs: (t.tdur ?? NaN) / 1000, inside: top };
    });
    for (const s of summary) log(`${name} long task: wall ${fmt(s.wallMs, 1)} ms, thread CPU ${fmt(s.cpuMs, 1)} ms; ${s.inside.join(', ')}`);
    log(`trace: ${file}`);
    return summary;
  };
}

async function main(): Promise<void> {
  if (!browserAvailable()) throw new Error('chromium is needed for this bench');
  const dataDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-page-'));
  const [port, mqttPort] = [await freePort(), await freePort()];
  let cp: ControlPlaneProcess | undefined;
  const results: Record<string, unknown> = { bench: 'fleet-page', startedAt: new Date().toISOString(), machine: machine(), config: { devices: DEVICES, loads: LOADS, eventsPerSecond: EVENTS_PER_S, eventSeconds: EVENT_S } };
  const browser = await launchBrowser({ width: 1280, height: 860 });
  try {
    // The rows enrollment makes, written before the server starts (10,000 enrollments over HTTP took
    // 95 s here); a few devices are enrolled through the API as well, so both kinds are in the list.
    const t0 = performance.now();
    const bulk = bulkDevices(DEVICES - 10);
    await insertIntoStore({ kind: 'sqlite', path: join(dataDir, 'edgehook.db') }, bulk);
    cp = await startControlPlaneProcess({ port, mqttPort, dataDir, adminPassword: ADMIN_PASSWORD });
    const api = new ApiClient(cp.url, '', 16);
    await api.login(ADMIN_PASSWORD);
    const ids = [...bulk.map((d) => d.deviceId), ...(await enrollMany(cp.url, await api.enrollmentToken(20), 10, 5))];
    log(`${ids.length} devices provisioned in ${fmt((performance.now() - t0) / 1000, 1)} s`);

    await browser.addInitScript(PROBE);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${cp.url}/`);
    await page.getByLabel('Username or email').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.fleet-row').first().waitFor({ timeout: 60_000 });

    // 1. First render: fresh loads of the fleet page (the session cookie stays).
    const firstRow: number[] = [];
    const lists: Array<NonNullable<PageStats['list']>> = [];
    const fcp: number[] = [];
    const loadLongTasks: number[] = [];
    const stopLoadTrace = await trace(page, 'loads');
    for (let i = 0; i < LOADS; i++) {
      const stopLoadProfile = i === LOADS - 1 ? await profile(page, 'load') : async () => undefined;
      await page.goto(`${cp.url}/`);
      const s = await waitFor('first device row', async () => {
        const m = await page.evaluate(() => (globalThis as unknown as { __bench: PageStats }).__bench);
        return m.firstRowAt !== null ? m : undefined;
      }, 60_000, 50);
      await sleep(1000); // long tasks right after the first rows count too
      await stopLoadProfile();
      const after = await page.evaluate(() => (globalThis as unknown as { __bench: PageStats }).__bench);
      // Every request of the list (one, or its pages): first request to the last byte, bytes summed.
      const pages = await page.evaluate<Array<{ start: number; end: number; bytes: number }>>(`performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === '/api/devices').map((e) => ({ start: e.startTime, end: e.responseEnd, bytes: e.encodedBodySize }))`);
      if (after.list && pages.length > 0) after.list = { ...after.list, responseEndMs: Math.max(...pages.map((x) => x.end)), bytes: pages.reduce((n, x) => n + x.bytes, 0), requests: pages.length };
      firstRow.push(s.firstRowAt ?? NaN);
      if (after.list) lists.push(after.list);
      fcp.push(s.fcp ?? NaN);
      loadLongTasks.push(...after.longTasks.map((t) => t.duration));
      log(`load ${i + 1}: first contentful paint ${fmt(s.fcp ?? NaN, 0)} ms, GET /api/devices ${fmt(after.list?.startMs ?? NaN, 0)} -> ${fmt(after.list?.responseStartMs ?? NaN, 0)} -> ${fmt(after.list?.responseEndMs ?? NaN, 0)} ms (${fmt((after.list?.bytes ?? 0) / 1024, 0)} KB in ${after.list?.requests ?? 1} requests), first row ${fmt(s.firstRowAt ?? NaN, 0)} ms, long tasks ${after.longTasks.map((t) => fmt(t.duration, 0)).join(', ') || 'none'}`);
    }
    const loadTrace = await stopLoadTrace();
    const rowsShown = await page.locator('.fleet-row').count();
    const countText = (await page.locator('[aria-live="polite"]').first().textContent()) ?? '';

    // 2. Live presence: EVENTS_PER_S a second, dispatched in the page on the real events socket (its
    // own onmessage handler runs, as for a frame from the server); the ids are the real devices', the
    // first screenful getting most of them so visible rows really change.
    await page.evaluate(() => {
      const m = (globalThis as unknown as { __bench: PageStats }).__bench;
      m.longTasks = [];
      m.frameGaps = [];
    });
    log(`presence: ${EVENTS_PER_S} events/s for ${EVENT_S} s`);
    const visibleIds = await page.locator('.fleet-row').evaluateAll((els) => els.map((e) => decodeURIComponent((e.getAttribute('href') ?? '').split('/').pop() ?? '')));
    const started = performance.now();
    const stopProfile = await profile(page, 'presence');
    const stopTrace = await trace(page, 'presence');
    const sentLog = await page.evaluate<{ sent: number; ms: number; state: Record<string, boolean> }>(`(${PRESENCE})(${JSON.stringify({ all: ids, hot: visibleIds, rate: EVENTS_PER_S, seconds: EVENT_S })})`);
    const sent = sentLog.sent;
    const state = new Map(Object.entries(sentLog.state));
    const sendSeconds = sentLog.ms / 1000;
    void started;
    await sleep(1000);
    await stopProfile();
    const presenceTrace = await stopTrace();
    const live = await page.evaluate(() => (globalThis as unknown as { __bench: PageStats }).__bench);
    // Every visible row shows the last state sent for it.
    const visible = await page.locator('.fleet-row').evaluateAll((els) => els.map((e) => ({ name: e.getAttribute('data-device'), online: e.getAttribute('data-online') })));
    const byName = new Map<string, boolean>();
    const names = await api.expect<Array<{ id: string; name: string }>>(200, 'GET', '/api/devices');
    const nameOf = new Map(names.map((d) => [d.id, d.name]));
    for (const [id, online] of state) byName.set(nameOf.get(id) ?? id, online);
    const wrong = visible.filter((v) => v.name !== null && byName.has(v.name) && String(byName.get(v.name)) !== v.online).length;
    const checked = visible.filter((v) => v.name !== null && byName.has(v.name)).length;

    const first = summarize(firstRow);
    const listMs = summarize(lists.map((l) => l.responseEndMs - l.startMs));
    const listBytes = lists[0]?.bytes ?? 0;
    const paint = summarize(fcp);
    const maxLoadTask = Math.max(0, ...loadLongTasks);
    const liveTasks = live.longTasks.map((t) => t.duration);
    const maxLiveTask = Math.max(0, ...liveTasks);
    const gaps = summarize(live.frameGaps);
    results['firstRender'] = { lists, firstRowMs: firstRow, fcpMs: fcp, longTasksMs: loadLongTasks, rowsShown, countText };
    results['presence'] = { sent, sendSeconds, longTasksMs: liveTasks, frameGaps: gaps, visibleChecked: checked, visibleWrong: wrong };
    results['pageErrors'] = pageErrors;
    const rows: Row[] = [
      { metric: `devices in the list (${countText.trim().split('·')[0]?.trim() ?? ''})`, value: `${rowsShown} rows in the DOM` },
      { metric: `first contentful paint (console shell; reference) p50 / max of ${LOADS}`, value: `${fmt(paint.p50, 0)} / ${fmt(paint.max, 0)} ms` },
      { metric: `GET /api/devices in the page (first request to last byte) p50 / max, size`, value: `${fmt(listMs.p50, 0)} / ${fmt(listMs.max, 0)} ms, ${fmt(listBytes / 1024, 0)} KB in ${lists[0]?.requests ?? 1} requests` },
      { metric: `first useful paint (first device rows) p50 / max of ${LOADS}`, value: `${fmt(first.p50, 0)} / ${fmt(first.max, 0)} ms`, target: '< 1000 ms', pass: first.max < 1000 },
      { metric: 'long tasks during the loads: count / longest', value: `${loadLongTasks.length} / ${fmt(maxLoadTask, 0)} ms`, target: 'none > 50 ms', pass: maxLoadTask <= 50 },
      { metric: `presence events sent (over ${fmt(sendSeconds, 1)} s)`, value: `${sent} (${fmt(sent / sendSeconds, 0)}/s)` },
      { metric: 'long tasks during presence: count / longest', value: `${liveTasks.length} / ${fmt(maxLiveTask, 0)} ms`, target: 'none > 50 ms', pass: maxLiveTask <= 50 },
      { metric: 'frame gap during presence p50 / p99 / max', value: `${fmt(gaps.p50, 1)} / ${fmt(gaps.p99, 1)} / ${fmt(gaps.max, 1)} ms` },
      { metric: 'visible rows showing the last state sent', value: `${checked - wrong} of ${checked}`, target: 'all', pass: wrong === 0 },
      { metric: 'page errors', value: String(pageErrors.length), target: '0', pass: pageErrors.length === 0 },
    ];
    // With the trace: the longest tasks' own CPU time, which depends less on the machine's load than their wall time.
    const cpuOf = (t: Array<{ wallMs: number; cpuMs: number }> | undefined): Row => ({ metric: '', value: t ? `${t.length} / ${fmt(Math.max(0, ...t.map((x) => x.wallMs)), 0)} ms wall, ${fmt(Math.max(0, ...t.map((x) => x.cpuMs)), 1)} ms CPU at most` : '' });
    if (loadTrace) rows.splice(5, 0, { ...cpuOf(loadTrace), metric: 'traced tasks > 50 ms during the loads: count / longest wall, most CPU' });
    if (presenceTrace) rows.splice(rows.length - 3, 0, { ...cpuOf(presenceTrace), metric: 'traced tasks > 50 ms during presence: count / longest wall, most CPU' });
    results['traces'] = { loads: loadTrace, presence: presenceTrace };
    results['rows'] = rows;
    printTable(`Fleet page in Chromium (${DEVICES} devices, ${EVENTS_PER_S} events/s)`, rows);
    console.log(`\nresults: ${writeResults(`fleet-page-${DEVICES}`, results)}`);
  } finally {
    await browser.close().catch(() => undefined);
    if (cp) await cp.stop(10_000);
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`fleet-page bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
