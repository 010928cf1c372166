// The declared-servers form in the containers tab (simulated engine on a real agent): validation in
// the form, the plan shown before apply, create, edit and remove from the browser.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BrowserContext, Page } from 'playwright-core';
import { adminApi, cleanup, killAllAgents, startTestControlPlane, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { containerAgent } from '../containers/fixtures.js';
import { browserAvailable, consolePage, logIn, screenshot } from './browser.js';

interface Ctx { cp: TestControlPlane; api: Api; deviceId: string; browser: BrowserContext; page: Page; errors: string[] }
const t = suite<Ctx>('web console: declared servers form');
const LONG = 30_000;

if (!browserAvailable()) {
  t.skip('browser tests (no Chromium)', () => undefined);
  t.run();
} else {
  t.before(async (ctx) => {
    ctx.cp = await startTestControlPlane();
    ctx.api = await adminApi(ctx.cp);
    ctx.deviceId = (await containerAgent(ctx.cp, ctx.api, 'simulated', 'form-sim')).deviceId;
    Object.assign(ctx, await consolePage(LONG));
  });
  t.after(async (ctx) => {
    await ctx.browser?.close().catch(() => undefined);
    await killAllAgents();
    await ctx.cp?.close();
    if (ctx.cp) await cleanup(ctx.cp.dataDir);
  });

  t('create: bad fields are flagged, the plan is shown, Apply creates and starts it', async ({ page, cp, deviceId, api }) => {
    await logIn(page, `${cp.url}/devices/${deviceId}/containers`);
    await page.getByRole('button', { name: 'New server' }).click();
    const form = page.getByRole('form', { name: 'New server' });
    await form.getByLabel('Name').fill('Web Server');
    await form.getByLabel('Image').fill('sim/echo');
    await form.getByLabel(/^Ports/).fill('8080');
    await form.getByRole('button', { name: 'Review plan' }).click();
    await form.getByRole('alert').filter({ hasText: 'starting with a letter or digit' }).waitFor();
    await form.getByRole('alert').filter({ hasText: 'is not HOST:CONTAINER' }).waitFor();
    await form.getByLabel('Name').fill('web');
    await form.getByLabel(/^Ports/).fill('18090:80');
    await form.getByLabel(/^Environment/).fill('GREETING=hello');
    await form.getByRole('button', { name: 'Review plan' }).click();
    const plan = form.getByRole('region', { name: 'Plan' });
    await plan.getByText('create web').waitFor();
    await plan.getByText('start web').waitFor();
    assert.is((await api.request('GET', `/api/devices/${deviceId}/servers`)).body.revision, 0, 'reviewing stores nothing');
    await screenshot(page, 'servers-plan');
    await form.getByRole('button', { name: 'Apply' }).click();
    await form.getByRole('status').getByText('ok: start web').waitFor();
    await form.getByRole('button', { name: 'Close' }).click();
    await page.locator('tr[data-container="web"]').waitFor();
    const spec = (await api.request('GET', `/api/devices/${deviceId}/servers/web`)).body;
    assert.equal(spec.ports, [{ host: 18090, container: 80, protocol: 'tcp' }]);
    assert.equal(spec.env, { GREETING: 'hello' });
  });

  t('edit shows a recreate, remove shows a remove; both apply', async ({ page, deviceId, api, errors }) => {
    await page.locator('li[data-server="web"]').getByRole('button', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: 'Edit server web' });
    await form.getByLabel(/^Environment/).fill('GREETING=bye');
    await form.getByRole('button', { name: 'Review plan' }).click();
    await form.getByRole('region', { name: 'Plan' }).getByText(/recreate web/).waitFor();
    await form.getByRole('button', { name: 'Apply' }).click();
    await form.getByRole('status').getByText(/ok: recreate web/).waitFor();
    assert.equal((await api.request('GET', `/api/devices/${deviceId}/servers/web`)).body.env, { GREETING: 'bye' });
    await form.getByRole('button', { name: 'Close' }).click();

    await page.locator('li[data-server="web"]').getByRole('button', { name: 'Remove' }).click();
    const rm = page.getByRole('form', { name: 'Remove server web' });
    await rm.getByRole('button', { name: 'Review plan' }).click();
    await rm.getByRole('region', { name: 'Plan' }).getByText(/remove web/).waitFor();
    await rm.getByRole('button', { name: 'Remove' }).click();
    await rm.getByRole('status').getByText(/ok: remove web/).waitFor();
    await rm.getByRole('button', { name: 'Close' }).click();
    await waitFor('container gone', async () => (await api.request('GET', `/api/devices/${deviceId}/containers/web`)).status === 404, LONG);
    await page.locator('tr[data-container="web"]').waitFor({ state: 'detached' });
    assert.equal(errors, []);
  });

  t('apply of an image the device pulls: a progress bar per image, from pulling to done', async ({ page, deviceId, api, errors }) => {
    // The simulated engine pulls registry.simulated/* from its simulated registry, in layers over time.
    const image = 'registry.simulated/demo/console:1';
    await page.getByRole('button', { name: 'New server' }).click();
    const form = page.getByRole('form', { name: 'New server' });
    await form.getByLabel('Name').fill('pulled');
    await form.getByLabel('Image').fill(image);
    await form.getByRole('button', { name: 'Review plan' }).click();
    await form.getByRole('region', { name: 'Plan' }).getByText('create pulled').waitFor();
    await form.getByRole('button', { name: 'Apply' }).click();
    const bar = form.getByRole('region', { name: 'Image pulls' }).locator(`.pull[data-image="${image}"]`);
    await bar.and(page.locator('[data-status="pulling"]')).waitFor();
    await bar.and(page.locator('[data-status="done"]')).waitFor();
    await bar.getByText(/^pulled registry\.simulated\/demo\/console:1: 3\/3 layers, (\d+\.\d)\/\1 MB$/).waitFor();
    const progress = bar.getByRole('progressbar', { name: `pull ${image}` });
    assert.is(await progress.getAttribute('value'), '1000', 'the bar is full');
    await form.getByRole('status').getByText('ok: create pulled').waitFor();
    await screenshot(page, 'servers-pull');
    await form.getByRole('button', { name: 'Close' }).click();
    assert.ok((await api.request('DELETE', `/api/devices/${deviceId}/servers/pulled`)).body.servers.every((s: { name: string }) => s.name !== 'pulled'));
    assert.equal(errors, []);
  });

  t.run();
}
