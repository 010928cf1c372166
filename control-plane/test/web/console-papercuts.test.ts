// Console papercuts (issue 11) in Debian's Chromium: shell tabs, chart units, Mem %, logs scrolled
// to the newest line, the tabs' overflow cue at phone width, and a board without GPIO.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { adminApi, cleanup, createEnrollmentToken, killAllAgents, spawnAgent, startTestControlPlane, tempDir, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { browserAvailable, screenshot, signedInConsole } from './browser.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  deviceId: string;
  bareId: string;
  browser: BrowserContext;
  page: Page;
  errors: string[];
  dirs: string[];
}
const t = suite<Ctx>('web console papercuts in Chromium');
const LONG = 30_000;
const actions = fileURLToPath(new URL('../../../agent/demo/actions.json', import.meta.url));

async function agent(ctx: Ctx, hostname: string, profile: string, extraArgs: string[]): Promise<string> {
  const stateDir = await tempDir('edgehook-agent-');
  ctx.dirs.push(stateDir);
  const a = spawnAgent({ server: ctx.cp.url, token: await createEnrollmentToken(ctx.api), stateDir, hostname, profile, extraArgs: ['--telemetry-port', 'off', ...extraArgs] });
  const id = await waitFor(`${hostname} enrollment`, () => /"deviceId":"([^"]+)"/.exec(a.output())?.[1], LONG);
  await waitFor(`${hostname} online`, async () => (await ctx.api.request('GET', `/api/devices/${id}`)).body?.online === true, LONG);
  return id;
}

if (!browserAvailable()) {
  t.skip('browser tests (no Chromium)', () => undefined);
  t.run();
} else {
  t.before(async (ctx) => {
    ctx.dirs = [];
    ctx.cp = await startTestControlPlane();
    ctx.api = await adminApi(ctx.cp);
    ctx.deviceId = await agent(ctx, 'papercuts', 'simulated', ['--actions', actions, '--pty', 'node-pty', '--telemetry-interval', '1s', '--container-engine', 'simulated']);
    ctx.bareId = await agent(ctx, 'bare-linux', 'generic-linux', ['--container-engine', 'simulated']);
    Object.assign(ctx, await signedInConsole(ctx.cp.url, LONG));
  });

  t.after(async (ctx) => {
    await ctx.browser?.close();
    await killAllAgents();
    await ctx.cp?.close();
    await cleanup(...(ctx.cp ? [ctx.cp.dataDir] : []), ...(ctx.dirs ?? []));
  });

  t('terminal tabs: "+ New shell" shows only the selected shell, and the tabs switch', async ({ page, cp, deviceId }) => {
    await page.goto(`${cp.url}/devices/${deviceId}/terminal`);
    const status = page.getByTestId('shell-status');
    await status.first().filter({ hasText: /connected|reattached/ }).waitFor();
    await page.locator('.xterm-helper-textarea').first().focus();
    await page.keyboard.type('echo first-$((2*3))\n');
    await waitFor('output in shell 1', async () => /first-6/.test((await page.locator('.xterm-rows').first().textContent()) ?? ''), LONG, 200);
    await page.getByRole('button', { name: 'New shell tab' }).click();
    await page.getByRole('tab', { name: 'Shell 2' }).waitFor();
    // Exactly one shell visible: the new one, connected on its own.
    await waitFor('shell 2 connected', async () => (await status.allTextContents()).filter((s) => /connected/.test(s)).length === 2, LONG, 200);
    const terms = page.locator('.term-host');
    assert.is(await terms.count(), 2);
    assert.is(await terms.nth(0).isVisible(), false, 'shell 1 is hidden while shell 2 is selected');
    assert.is(await terms.nth(1).isVisible(), true);
    assert.is(await page.getByRole('tab', { name: 'Shell 2' }).getAttribute('aria-selected'), 'true');
    await page.locator('.xterm-helper-textarea').nth(1).focus();
    await page.keyboard.type('echo second-$((3*3))\n');
    await waitFor('output in shell 2', async () => /second-9/.test((await page.locator('.xterm-rows').nth(1).textContent()) ?? ''), LONG, 200);
    assert.not.match((await page.locator('.xterm-rows').nth(0).textContent()) ?? '', /second-9/, 'each tab is its own shell');
    await screenshot(page, 'terminal-tabs');
    // Switching back shows shell 1 only.
    await page.getByRole('tab', { name: 'Shell 1' }).click();
    assert.is(await terms.nth(0).isVisible(), true);
    assert.is(await terms.nth(1).isVisible(), false);
    assert.is(await page.getByRole('tab', { name: 'Shell 1' }).getAttribute('aria-selected'), 'true');
    assert.is(await page.getByRole('tab', { name: 'Shell 2' }).getAttribute('aria-selected'), 'false');
    // Closing the selected shell selects the other one.
    await page.getByRole('tab', { name: 'Shell 2' }).click();
    // Only the selected shell's controls are visible (getByRole skips hidden ones).
    assert.is(await page.getByRole('button', { name: 'Close shell' }).count(), 1);
    await page.getByRole('button', { name: 'Close shell' }).click();
    await waitFor('one shell left', async () => (await terms.count()) === 1, LONG, 100);
    assert.is(await terms.first().isVisible(), true);
  });

  t('telemetry: the y axis shows units with SI prefixes (net.rx_bps)', async ({ page, cp, deviceId, api }) => {
    await waitFor('net.rx_bps reported', async () => ((await api.request('GET', `/api/devices/${deviceId}/telemetry/metrics`)).body?.metrics ?? []).some((m: { metric: string }) => m.metric === 'net.rx_bps'), LONG, 500);
    await page.goto(`${cp.url}/devices/${deviceId}/telemetry`);
    await page.getByLabel('Metric').selectOption('net.rx_bps');
    const chart = page.getByTestId('telemetry-chart');
    await page.locator('[data-testid="telemetry-chart"][data-unit="bytes/s"]').waitFor();
    await waitFor('chart points', async () => Number(await chart.getAttribute('data-points')) >= 2, LONG, 250);
    // uPlot draws on a canvas; the chart keeps the y tick texts it drew in data-y-ticks.
    const yTicks = async (): Promise<string[]> => JSON.parse((await chart.getAttribute('data-y-ticks')) ?? '[]');
    // The unit attribute changes at once; the ticks once uPlot has redrawn (the previous metric's until then).
    const bytesTick = /^-?\d+(\.\d+)? [kMGTPE]?B\/s$/;
    await waitFor('B/s ticks', async () => {
      const ticks = await yTicks();
      return ticks.length >= 2 && ticks.every((v) => bytesTick.test(v));
    }, LONG, 250);
    for (const tick of await yTicks()) assert.match(tick, bytesTick, `tick ${JSON.stringify(tick)}`);
    await page.getByLabel('Metric').selectOption('cpu.usage');
    await page.locator('[data-testid="telemetry-chart"][data-unit="percent"]').waitFor();
    await waitFor('percent ticks', async () => {
      const ticks = await yTicks();
      return ticks.length >= 2 && ticks.every((v) => /^-?\d+(\.\d+)?%$/.test(v));
    }, LONG, 250);
    await screenshot(page, 'telemetry-units');
  });

  t('processes: Mem % is a percent of the device memory, RSS in MB beside it', async ({ page, cp, deviceId, api }) => {
    const started = await api.request('POST', `/api/devices/${deviceId}/processes`, { cmd: ['sleep', '60'] });
    assert.ok(started.status < 300, JSON.stringify(started.body));
    await page.goto(`${cp.url}/devices/${deviceId}/processes`);
    const cell = page.getByTestId('mem-percent').first();
    await cell.waitFor();
    const value = Number(await cell.textContent());
    assert.ok(Number.isFinite(value) && value >= 0 && value < 5, `a sleep uses a tiny share of memory, got ${value}`);
    await page.getByRole('cell', { name: / MB$/ }).first().waitFor();
  });

  t('container logs open scrolled to the newest line', async ({ page, cp, deviceId, api }) => {
    const lines = Array.from({ length: 80 }, (_, i) => `echo log-line-${i + 1}`).join('; ');
    const created = await api.request('POST', `/api/devices/${deviceId}/containers`, { spec: { name: 'chatty', image: 'busybox', cmd: ['sh', '-c', `${lines}; sleep 1000`] } });
    assert.ok(created.status < 300, JSON.stringify(created.body));
    await api.request('POST', `/api/devices/${deviceId}/containers/chatty/power`, { action: 'start' });
    await page.goto(`${cp.url}/devices/${deviceId}/containers`);
    await page.locator('tr[data-container="chatty"]').getByRole('button', { name: 'chatty' }).click();
    await page.getByRole('tab', { name: 'Logs' }).click();
    const logs = page.getByTestId('container-logs');
    await logs.filter({ hasText: 'log-line-80' }).waitFor();
    await waitFor('scrolled to the bottom', () => logs.evaluate((el) => el.scrollHeight > el.clientHeight && el.scrollTop + el.clientHeight >= el.scrollHeight - 2), LONG, 100);
  });

  t('device tabs at phone width say more tabs are off-screen', async ({ page, cp, deviceId }) => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(`${cp.url}/devices/${deviceId}/overview`);
    const tabs = page.getByTestId('device-tabs');
    await page.locator('[data-testid="device-tabs"][data-more="right"]').waitFor();
    await page.locator('.tabs-more.right').waitFor();
    await screenshot(page, 'device-tabs-phone');
    await tabs.locator('nav').evaluate((el) => el.scrollTo({ left: el.scrollWidth }));
    await page.locator('[data-testid="device-tabs"][data-more="left"]').waitFor();
    // A tab beyond the edge, once selected, is scrolled into view.
    await page.goto(`${cp.url}/devices/${deviceId}/containers`);
    const selected = page.getByRole('tab', { name: 'Containers' });
    await selected.waitFor();
    await waitFor('the selected tab inside the strip', () => selected.evaluate((el) => {
      const strip = el.parentElement?.getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return strip !== undefined && r.left >= strip.left - 1 && r.right <= strip.right + 1;
    }), LONG, 100);
    await page.locator('[data-testid="device-tabs"][data-more="left"]').waitFor();
    // Wide enough: no cue.
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.locator('[data-testid="device-tabs"][data-more=""]').waitFor();
  });

  t('a board without GPIO says so instead of an empty table', async ({ page, cp, bareId, deviceId }) => {
    await page.goto(`${cp.url}/devices/${bareId}/hardware`);
    await page.getByTestId('gpio-empty').filter({ hasText: 'generic-linux' }).waitFor();
    assert.is(await page.locator('section.gpio table').count(), 0);
    await page.goto(`${cp.url}/devices/${deviceId}/hardware`);
    await page.locator('section.gpio table').waitFor();
    assert.is(await page.getByTestId('gpio-empty').count(), 0);
  });

  t('no uncaught errors in the page', ({ errors }) => {
    assert.equal(errors, []);
  });

  t.run();
}
