import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { adminApi, cleanup, enrolledAgent, killAllAgents, startTestControlPlane, tempDir, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { browserAvailable, screenshot, signedInConsole } from './browser.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  deviceId: string;
  browser: BrowserContext;
  page: Page;
  errors: string[];
  dir: string;
}
const t = suite<Ctx>('KVM page in Chromium (simulated screen and gadget, real agent)');
const LONG = 30_000;

async function reports(api: Api, deviceId: string, kind: 'reports' | 'mouse-reports', atLeast: number): Promise<string[]> {
  return waitFor(`${atLeast} ${kind}`, async () => {
    const r = (await api.request('GET', `/api/devices/${deviceId}/hardware/hid/${kind}`)).body.reports as string[];
    return r.length >= atLeast ? r : undefined;
  }, LONG);
}
const clear = async (api: Api, deviceId: string) => {
  await api.request('GET', `/api/devices/${deviceId}/hardware/hid/reports?clear=true`);
  await api.request('GET', `/api/devices/${deviceId}/hardware/hid/mouse-reports?clear=true`);
};

if (!browserAvailable()) {
  t.skip('browser tests (no Chromium)', () => undefined);
  t.run();
} else {
  t.before(async (ctx) => {
    ctx.cp = await startTestControlPlane();
    ctx.api = await adminApi(ctx.cp);
    ctx.deviceId = (await enrolledAgent(ctx.cp, ctx.api, { hostname: 'kvm-web' })).deviceId;
    ctx.dir = await tempDir('edgehook-kvm-web-');
    Object.assign(ctx, await signedInConsole(ctx.cp.url, LONG));
  });
  t.after(async (ctx) => {
    await ctx.browser?.close().catch(() => undefined);
    await killAllAgents();
    await ctx.cp?.close();
    if (ctx.cp) await cleanup(ctx.cp.dataDir, ctx.dir);
  });

  t('the live screen shows; a click captures; the mouse and keys reach the gadget; Right Ctrl releases', async ({ page, cp, api, deviceId }) => {
    await page.goto(`${cp.url}/devices/${deviceId}/kvm`);
    const screen = page.getByTestId('kvm-screen');
    await waitFor('the MJPEG picture', async () => (await screen.evaluate((img: { naturalWidth: number }) => img.naturalWidth)) === 1280, LONG, 200);
    await screenshot(page, 'kvm');
    await clear(api, deviceId);
    const box = await screen.boundingBox();
    if (!box) throw new Error('no screen box');
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2); // captures
    await page.getByTestId('kvm-capture').filter({ hasText: 'Right Ctrl releases' }).waitFor();
    await page.mouse.move(box.x + 2, box.y + 2);
    await page.mouse.down();
    await page.mouse.up();
    const mouse = await reports(api, deviceId, 'mouse-reports', 3);
    // Near the top-left corner: small absolute coordinates, then the left button down and up.
    const x = Buffer.from(mouse[0] ?? '', 'hex').readUInt16LE(1);
    assert.ok(x < 1500, `x=${x} near the left edge`);
    assert.is(mouse.at(-2)?.slice(0, 2), '01');
    assert.is(mouse.at(-1)?.slice(0, 2), '00');
    await page.keyboard.press('KeyA');
    await page.keyboard.press('KeyB');
    assert.equal((await reports(api, deviceId, 'reports', 4)).slice(0, 4), ['0000040000000000', '0000000000000000', '0000050000000000', '0000000000000000']);
    await page.keyboard.press('ControlRight');
    await page.getByTestId('kvm-capture').filter({ hasText: 'Click the screen' }).waitFor();
    await clear(api, deviceId);
    await page.keyboard.press('KeyC'); // released: not sent
    await page.getByTestId('kvm-paste').fill('hi');
    await page.getByTestId('kvm-paste-send').click();
    const typed = await reports(api, deviceId, 'reports', 4);
    assert.equal(typed.slice(0, 4), ['00000b0000000000', '0000000000000000', '00000c0000000000', '0000000000000000'], 'paste typed "hi", and C was not sent');
  });

  t('ATX power and its LED; virtual media upload with progress, then connect', async ({ page, dir }) => {
    await page.getByTestId('kvm-power').click();
    await page.getByTestId('kvm-led-power').filter({ hasText: 'power on' }).waitFor();
    const file = join(dir, 'boot.iso');
    await writeFile(file, Buffer.alloc(3 * 1024 * 1024, 1));
    await page.getByTestId('kvm-msd-file').setInputFiles(file);
    await waitFor('upload done', async () => (await page.getByTestId('kvm-msd-progress').getAttribute('value')) === '100', LONG, 200);
    await page.locator('[data-testid="kvm-msd-image"] option[value="boot.iso"]').waitFor({ state: 'attached' });
    await page.getByTestId('kvm-msd-image').selectOption('boot.iso');
    await waitFor('image selected', async () => !(await page.getByTestId('kvm-msd-connect').isDisabled()), LONG, 200);
    await page.getByTestId('kvm-msd-connect').click();
    await page.getByTestId('kvm-msd-state').filter({ hasText: 'connected: boot.iso' }).waitFor();
    await screenshot(page, 'kvm-msd');
  });

  t('a phone-width screen still shows the whole picture', async ({ page, errors }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    const w = await page.getByTestId('kvm-screen').evaluate((img: { getBoundingClientRect(): { width: number } }) => img.getBoundingClientRect().width);
    assert.ok(w <= 390 && w > 200, `screen ${w}px wide`);
    await screenshot(page, 'kvm-phone');
    assert.equal(errors, []);
  });

  t.run();
}
