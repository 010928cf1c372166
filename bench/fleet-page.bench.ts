/**
 * The console's fleet page with many devices, in Chromium (playwright-core, /usr/bin/chromium):
 * first render and live presence, measured in the page with the Performance API.
 *
 *   node --import tsx bench/fleet-page.bench.ts      (or: npm run bench -- fleet-page)
 *
 * A real control plane (own process, SQLite) with EDGEHOOK_BENCH_PAGE_DEVICES (10000) devices
 * enrolled over POST /api/enroll (no agents: all offline). The browser logs in once, then:
 * - First render, EDGEHOOK_BENCH_PAGE_LOADS (5) fresh loads of `/`: first contentful paint (the
 *   console shell; the same-run reference) and "first useful paint", the first frame after the
 *   first device row is in the DOM (MutationObserver + requestAnimationFrame), both from navigation
 *   start; long tasks (PerformanceObserver 'longtask') during the load.
 * - Live presence: EDGEHOOK_BENCH_PAGE_EVENTS_PER_S (1000) device.online/offline events a second for
 *   EDGEHOOK_BENCH_PAGE_EVENT_SECONDS (10), written into the page's real /api/events socket by the
 *   browser's WebSocket routing (the server's own messages pass through untouched). Long tasks,
 *   the longest gap between animation frames, and whether the rows show the last state sent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebSocketRoute } from 'playwright-core';
import { browserAvailable, launchBrowser } from '../control-plane/test/web/browser.js';
import { ApiClient } from './lib/api.js';
import { freePort, sleep, startControlPlaneProcess, waitFor, type ControlPlaneProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, summarize, writeResults, type Row } from './lib/report.js';

const DEVICES = envNumber('EDGEHOOK_BENCH_PAGE_DEVICES', 10_000);
const LOADS = envNumber('EDGEHOOK_BENCH_PAGE_LOADS', 5);
const EVENTS_PER_S = envNumber('EDGEHOOK_BENCH_PAGE_EVENTS_PER_S', 1000);
const EVENT_S = envNumber('EDGEHOOK_BENCH_PAGE_EVENT_SECONDS', 10);
const ADMIN_PASSWORD = 'bench-admin-password';

const log = (msg: string): void => console.log(`[fleet-page ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** Installed before the console's own code on every load: what the page measures about itself. */
const PROBE = `(() => {
  const m = { longTasks: [], firstRowAt: null, fcp: null, frameGaps: [], lastFrame: 0 };
  window.__bench = m;
  new PerformanceObserver((list) => { for (const e of list.getEntries()) m.longTasks.push({ start: e.startTime, duration: e.duration }); }).observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') m.fcp = e.startTime; }).observe({ type: 'paint', buffered: true });
  const seen = () => {
    if (m.firstRowAt !== null || !document.querySelector('.fleet-row')) return false;
    // The frame that shows it: the next animation frame after the row is in the DOM.
    requestAnimationFrame(() => { m.firstRowAt = performance.now(); });
    return true;
  };
  const mo = new MutationObserver(() => { if (seen()) mo.disconnect(); });
  document.addEventListener('DOMContentLoaded', () => mo.observe(document.body, { childList: true, subtree: true }));
  const tick = (t) => { if (m.lastFrame) m.frameGaps.push(t - m.lastFrame); m.lastFrame = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})();`;

interface PageStats {
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

async function main(): Promise<void> {
  if (!browserAvailable()) throw new Error('chromium is needed for this bench');
  const dataDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-page-'));
  const [port, mqttPort] = [await freePort(), await freePort()];
  let cp: ControlPlaneProcess | undefined;
  const results: Record<string, unknown> = { bench: 'fleet-page', startedAt: new Date().toISOString(), machine: machine(), config: { devices: DEVICES, loads: LOADS, eventsPerSecond: EVENTS_PER_S, eventSeconds: EVENT_S } };
  const browser = await launchBrowser({ width: 1280, height: 860 });
  try {
    cp = await startControlPlaneProcess({ port, mqttPort, dataDir, adminPassword: ADMIN_PASSWORD });
    const api = new ApiClient(cp.url, '', 16);
    await api.login(ADMIN_PASSWORD);
    log(`enrolling ${DEVICES} devices`);
    const t0 = performance.now();
    const ids = await enrollMany(cp.url, await api.enrollmentToken(DEVICES + 10), DEVICES, 50);
    log(`enrolled in ${fmt((performance.now() - t0) / 1000, 1)} s`);

    await browser.addInitScript(PROBE);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // The page's /api/events socket goes to the real server; the bench can add frames of its own.
    let events: WebSocketRoute | undefined;
    await page.routeWebSocket(/\/api\/events/, (ws) => {
      ws.connectToServer();
      events = ws;
    });
    await page.goto(`${cp.url}/`);
    await page.getByLabel('Username or email').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.fleet-row').first().waitFor({ timeout: 60_000 });

    // 1. First render: fresh loads of the fleet page (the session cookie stays).
    const firstRow: number[] = [];
    const fcp: number[] = [];
    const loadLongTasks: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      await page.goto(`${cp.url}/`);
      const s = await waitFor('first device row', async () => {
        const m = await page.evaluate(() => (globalThis as unknown as { __bench: PageStats }).__bench);
        return m.firstRowAt !== null ? m : undefined;
      }, 60_000, 50);
      await sleep(1000); // long tasks right after the first rows count too
      const after = await page.evaluate(() => (globalThis as unknown as { __bench: PageStats }).__bench);
      firstRow.push(s.firstRowAt ?? NaN);
      fcp.push(s.fcp ?? NaN);
      loadLongTasks.push(...after.longTasks.map((t) => t.duration));
      log(`load ${i + 1}: first contentful paint ${fmt(s.fcp ?? NaN, 0)} ms, first row ${fmt(s.firstRowAt ?? NaN, 0)} ms, long tasks ${after.longTasks.map((t) => fmt(t.duration, 0)).join(', ') || 'none'}`);
    }
    const rowsShown = await page.locator('.fleet-row').count();
    const countText = (await page.locator('[aria-live="polite"]').first().textContent()) ?? '';

    // 2. Live presence: EVENTS_PER_S a second, in 10 ms slices, into the page's socket.
    await waitFor('events socket routed', async () => events, 10_000, 50);
    const sock = events;
    if (!sock) throw new Error('the page opened no /api/events socket');
    await page.evaluate(() => {
      const m = (globalThis as unknown as { __bench: PageStats }).__bench;
      m.longTasks = [];
      m.frameGaps = [];
    });
    log(`presence: ${EVENTS_PER_S} events/s for ${EVENT_S} s`);
    const state = new Map<string, boolean>();
    const perSlice = EVENTS_PER_S / 100;
    const started = performance.now();
    let sent = 0;
    for (let slice = 0; performance.now() - started < EVENT_S * 1000; slice++) {
      const due = started + slice * 10;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      // As many as are due by now (a late timer sends more, so the rate holds on a busy machine).
      const n = Math.min(Math.round(((performance.now() - started) / 1000) * EVENTS_PER_S) - sent, perSlice * 20);
      for (let k = 0; k < n; k++) {
        // The first screenful gets most of the traffic, so visible rows really change.
        const id = ids[sent % 7 === 0 ? Math.floor(Math.random() * ids.length) : Math.floor(Math.random() * 40)] ?? '';
        const online = !(state.get(id) ?? false);
        state.set(id, online);
        sock.send(JSON.stringify({ type: online ? 'device.online' : 'device.offline', deviceId: id, ts: Date.now() }));
        sent++;
      }
    }
    const sendSeconds = (performance.now() - started) / 1000;
    await sleep(1000);
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
    const paint = summarize(fcp);
    const maxLoadTask = Math.max(0, ...loadLongTasks);
    const liveTasks = live.longTasks.map((t) => t.duration);
    const maxLiveTask = Math.max(0, ...liveTasks);
    const gaps = summarize(live.frameGaps);
    results['firstRender'] = { firstRowMs: firstRow, fcpMs: fcp, longTasksMs: loadLongTasks, rowsShown, countText };
    results['presence'] = { sent, sendSeconds, longTasksMs: liveTasks, frameGaps: gaps, visibleChecked: checked, visibleWrong: wrong };
    results['pageErrors'] = pageErrors;
    const rows: Row[] = [
      { metric: `devices in the list (${countText.trim().split('·')[0]?.trim() ?? ''})`, value: `${rowsShown} rows in the DOM` },
      { metric: `first contentful paint (console shell; reference) p50 / max of ${LOADS}`, value: `${fmt(paint.p50, 0)} / ${fmt(paint.max, 0)} ms` },
      { metric: `first useful paint (first device rows) p50 / max of ${LOADS}`, value: `${fmt(first.p50, 0)} / ${fmt(first.max, 0)} ms`, target: '< 1000 ms', pass: first.max < 1000 },
      { metric: 'long tasks during the loads: count / longest', value: `${loadLongTasks.length} / ${fmt(maxLoadTask, 0)} ms`, target: 'none > 50 ms', pass: maxLoadTask <= 50 },
      { metric: `presence events sent (over ${fmt(sendSeconds, 1)} s)`, value: `${sent} (${fmt(sent / sendSeconds, 0)}/s)` },
      { metric: 'long tasks during presence: count / longest', value: `${liveTasks.length} / ${fmt(maxLiveTask, 0)} ms`, target: 'none > 50 ms', pass: maxLiveTask <= 50 },
      { metric: 'frame gap during presence p50 / p99 / max', value: `${fmt(gaps.p50, 1)} / ${fmt(gaps.p99, 1)} / ${fmt(gaps.max, 1)} ms` },
      { metric: 'visible rows showing the last state sent', value: `${checked - wrong} of ${checked}`, target: 'all', pass: wrong === 0 },
      { metric: 'page errors', value: String(pageErrors.length), target: '0', pass: pageErrors.length === 0 },
    ];
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
