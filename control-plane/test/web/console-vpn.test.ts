// The VPN in the console: the device page's VPN card (enable from the browser) and the fleet list's
// VPN badge, against a real control plane with the VPN on and a real agent with --vpn simulate.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BrowserContext, Page } from 'playwright-core';
import { adminApi, cleanup, createEnrollmentToken, killAllAgents, spawnAgent, startTestControlPlane, tempDir, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { browserAvailable, consolePage, logIn, screenshot } from './browser.js';

interface Ctx { cp: TestControlPlane; api: Api; agent: AgentProcess; deviceId: string; name: string; browser: BrowserContext; page: Page; errors: string[] }
const t = suite<Ctx>('web console: VPN');
const LONG = 30_000;

if (!browserAvailable()) {
  t.skip('browser tests (no Chromium)', () => undefined);
  t.run();
} else {
  t.before(async (ctx) => {
    ctx.cp = await startTestControlPlane({ args: ['--vpn-endpoint', '192.0.2.10:51820', '--vpn-subnet', '10.252.0.0/24'] });
    ctx.api = await adminApi(ctx.cp);
    ctx.agent = spawnAgent({ server: ctx.cp.url, token: await createEnrollmentToken(ctx.api), stateDir: await tempDir('edgehook-agent-'), hostname: 'vpn-web', extraArgs: ['--vpn', 'simulate'] });
    ctx.deviceId = await waitFor('agent enrollment', async () => /"deviceId":"([^"]+)"/.exec(ctx.agent.output())?.[1], 15_000);
    await waitFor('device online', async () => (await ctx.api.request('GET', `/api/devices/${ctx.deviceId}`)).body?.online === true, 15_000);
    ctx.name = String((await ctx.api.request('GET', `/api/devices/${ctx.deviceId}`)).body.name);
    Object.assign(ctx, await consolePage(LONG));
  });
  t.after(async (ctx) => {
    await ctx.browser?.close().catch(() => undefined);
    await killAllAgents();
    await ctx.cp?.close();
    await cleanup(...(ctx.cp ? [ctx.cp.dataDir] : []), ...(ctx.agent ? [ctx.agent.stateDir] : []));
  });

  t('the device page shows the VPN off, enables it, then shows its address and state', async ({ page, cp, deviceId, api }) => {
    await logIn(page, `${cp.url}/devices/${deviceId}/overview`);
    const card = page.getByTestId('device-vpn');
    await card.getByTestId('vpn-state').filter({ hasText: 'off' }).waitFor();
    await card.getByRole('button', { name: 'Enable VPN' }).click();
    await card.getByTestId('vpn-state').filter({ hasText: 'up (simulated)' }).waitFor();
    await card.getByTestId('vpn-address').filter({ hasText: '10.252.0.2' }).waitFor();
    await card.getByText('made on the device').waitFor();
    await card.getByRole('button', { name: 'Re-issue VPN config' }).waitFor();
    const view = (await api.request('GET', `/api/devices/${deviceId}/vpn`)).body;
    await card.getByText(view.publicKey).waitFor();
    await screenshot(page, 'device-vpn');
  });

  t('the fleet list badges devices on the VPN', async ({ page, cp, name, errors }) => {
    await page.goto(`${cp.url}/`);
    const row = page.locator(`a.fleet-row[data-device="${name}"]`);
    await row.getByTestId('fleet-vpn').waitFor();
    assert.match((await row.getByTestId('fleet-vpn').getAttribute('title')) ?? '', /VPN up/);
    await screenshot(page, 'fleet-vpn');
    assert.equal(errors, []);
  });

  t.run();
}
