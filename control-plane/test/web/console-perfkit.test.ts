// The Perfkit pages in Debian's Chromium against a real control plane, agent and test program:
// session browse, the config editor (desired vs reported, a stale edit refused), and an image
// whose clicks reach the program with their coordinates in the image.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BrowserContext, Page } from 'playwright-core';
import { adminApi, cleanup, createEnrollmentToken, killAllAgents, spawnAgent, startTestControlPlane, tempDir, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { browserAvailable, signedInConsole } from './browser.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  deviceId: string;
  browser: BrowserContext;
  page: Page;
  errors: string[];
  dirs: string[];
  program: ChildProcess;
  out: () => string;
}
const t = suite<Ctx>('perfkit pages in Chromium');
const LONG = 30_000;
const PROGRAM = fileURLToPath(new URL('../perfkit/fixtures/perfkit-program.mjs', import.meta.url));

if (!browserAvailable()) {
  t.skip('browser tests (no Chromium)', () => undefined);
  t.run();
} else {
  t.before(async (ctx) => {
    ctx.dirs = [];
    ctx.cp = await startTestControlPlane();
    ctx.api = await adminApi(ctx.cp);
    const stateDir = await tempDir('edgehook-agent-');
    ctx.dirs.push(stateDir);
    const agent = spawnAgent({ server: ctx.cp.url, token: await createEnrollmentToken(ctx.api), stateDir, hostname: 'perfkit-web', extraArgs: ['--telemetry-port', '0'] });
    ctx.deviceId = await waitFor('enrollment', () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], LONG);
    const local = await waitFor('local endpoint', () => /"url":"(http:\/\/127\.0\.0\.1:\d+)\/v1\/traces"/.exec(agent.output())?.[1], LONG);
    ctx.program = spawn(process.execPath, [PROGRAM], { env: { ...process.env, EDGEHOOK_LOCAL: local, SESSION_NAME: 'webdemo' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    ctx.program.stdout?.on('data', (d) => (out += d));
    ctx.program.stderr?.on('data', (d) => (out += d));
    ctx.out = () => out;
    await waitFor('the session', async () => (await ctx.api.request('GET', `/api/devices/${ctx.deviceId}/sessions`)).body?.sessions?.some((s: any) => s.images.length > 0), LONG);
    Object.assign(ctx, await signedInConsole(ctx.cp.url, LONG));
  });

  t.after(async (ctx) => {
    ctx.program?.kill('SIGKILL');
    await ctx.browser?.close();
    await killAllAgents();
    await ctx.cp?.close();
    await cleanup(...(ctx.cp ? [ctx.cp.dataDir] : []), ...(ctx.dirs ?? []));
  });

  t('sessions: the program is listed live with its trace group and image', async ({ page, cp, deviceId, program }) => {
    await page.goto(`${cp.url}/devices/${deviceId}/sessions`);
    const row = page.getByTestId('session-webdemo');
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    assert.match(text, /live/);
    assert.match(text, new RegExp(String(program.pid)));
    assert.match(text, /frames/);
    assert.match(text, /view/);
  });

  t('configs: set a value, see desired then reported; a stale edit shows the conflict', async ({ page, cp, api, deviceId }) => {
    await page.goto(`${cp.url}/devices/${deviceId}/configs`);
    const row = page.getByTestId('entry-webdemo/render.fps');
    await row.waitFor();
    assert.is(await row.getByTestId('desired').textContent(), '—');
    await row.getByLabel('webdemo/render.fps').fill('75');
    await row.getByRole('button', { name: 'Set' }).click();
    await waitFor('desired v1', async () => (await row.getByTestId('desired').textContent()) === '75 (v1)', LONG, 200);
    await waitFor('reported v1', async () => (await row.getByTestId('reported').textContent()) === '75 (v1)', LONG, 200);
    assert.match((await row.textContent()) ?? '', /in sync/);
    // The agent's own settings are there too.
    await page.getByTestId('entry-agent/telemetry.interval_s').waitFor();
    // Someone else edits meanwhile; this page still holds version 1 until it reloads: the edit is refused.
    const other = await api.request('PUT', `/api/devices/${deviceId}/configs/webdemo/render.mode`, { value: 'pretty', version: 0 });
    assert.is(other.status, 200);
    const mode = page.getByTestId('entry-webdemo/render.mode');
    await api.request('PUT', `/api/devices/${deviceId}/configs/webdemo/render.mode`, { value: 'fast', version: 1 });
    await waitFor('mode v2 shown', async () => /v2/.test((await mode.getByTestId('desired').textContent()) ?? ''), LONG, 200);
    // The page's refreshes are held from here, so it still holds version 2 when someone else makes it 3.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/api/devices/*/configs', async (route) => {
      await held;
      await route.continue().catch(() => undefined);
    });
    await api.request('PUT', `/api/devices/${deviceId}/configs/webdemo/render.mode`, { value: 'pretty', version: 2 });
    await mode.getByLabel('webdemo/render.mode').selectOption('fast');
    await mode.getByRole('button', { name: 'Set' }).click();
    await mode.getByText(/at version 3, not 2/).waitFor();
    release();
    await page.unroute('**/api/devices/*/configs');
    await waitFor('v3 shown after the reload', async () => /pretty" \(v3\)|"pretty" \(v3\)/.test((await mode.getByTestId('desired').textContent()) ?? ''), LONG, 200);
  });

  t('images: the frame is shown and a click reaches the program with its coordinates in the image', async ({ page, cp, deviceId, out }) => {
    await page.goto(`${cp.url}/devices/${deviceId}/images`);
    const img = page.locator('img[alt^="webdemo"]');
    await img.waitFor();
    await waitFor('the frame decoded', async () => Number(await page.evaluate(`document.querySelector('img[alt^="webdemo"]')?.naturalWidth ?? 0`)) === 320, LONG, 200);
    const box = await img.boundingBox();
    assert.ok(box);
    // A quarter across and half down: (80, 100) in image pixels, whatever the displayed size.
    await page.mouse.click(box.x + box.width / 4, box.y + box.height / 2);
    await page.getByTestId('sent').filter({ hasText: /click at/ }).waitFor();
    const click = await waitFor('the click at the program', () => out().split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.interaction?.event?.type === 'mouse'), LONG);
    assert.equal([click.interaction.event.action, click.interaction.event.button], ['click', 'left']);
    assert.ok(Math.abs(click.interaction.event.x - 80) <= 2 && Math.abs(click.interaction.event.y - 100) <= 2, JSON.stringify(click.interaction.event));
    await img.focus();
    await page.keyboard.press('KeyQ');
    await waitFor('the key at the program', () => out().split('\n').filter(Boolean).map((l) => JSON.parse(l)).some((l) => l.interaction?.event?.type === 'key' && l.interaction.event.key === 'KeyQ'), LONG);
    // The program renders a new frame after each batch; the page follows it.
    await waitFor('a newer frame', async () => /Frame [2-9]/.test((await page.getByTestId('frame-info').textContent()) ?? ''), LONG, 200);
  });

  t('no console errors', ({ errors }) => {
    assert.equal(errors, []);
  });

  t.run();
}
