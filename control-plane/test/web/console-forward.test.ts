// The console's link to a device web UI, in Debian's Chromium: the device page's port field opens
// the HTTP proxy in a new tab with the operator's cookie session; the device's page loads, its
// relative link stays under the prefix, and its own websocket (same origin) works through the proxy.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { WebSocketServer } from 'ws';
import type { BrowserContext, Page } from 'playwright-core';
import { adminApi, cleanup, enrolledAgent, killAllAgents, startTestControlPlane, type Api, type TestControlPlane } from '../helpers/harness.js';
import { browserAvailable, screenshot, signedInConsole } from './browser.js';

interface Ctx { cp: TestControlPlane; api: Api; deviceId: string; web: Server; port: number; browser: BrowserContext; page: Page; errors: string[] }
const t = suite<Ctx>('console: a device web UI through the proxy, in Chromium');
const LONG = 30_000;

const PAGE = `<!doctype html><html><head><title>Device UI</title></head><body><h1>Device UI</h1>
<p id="msg">waiting</p><a href="next?x=1">next page</a>
<script>
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + location.pathname + 'ws');
ws.onmessage = (e) => { document.getElementById('msg').textContent = e.data; };
</script></body></html>`;

if (!browserAvailable()) {
  t.skip('browser tests (no Chromium)', () => undefined);
  t.run();
} else {
  t.before(async (ctx) => {
    ctx.cp = await startTestControlPlane({ args: ['--device-proxy', 'true'] });
    ctx.api = await adminApi(ctx.cp);
    ctx.deviceId = (await enrolledAgent(ctx.cp, ctx.api, { hostname: 'webui-dev' })).deviceId;
    ctx.web = createServer((req, res) => {
      if (req.url === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      if (req.url?.startsWith('/next')) return res.writeHead(200, { 'content-type': 'text/html' }).end(`<h1>second page</h1><p id="q">${req.url}</p>`);
      res.writeHead(404).end();
    });
    const wss = new WebSocketServer({ server: ctx.web, path: '/ws' });
    wss.on('connection', (ws) => ws.send('hello-from-device'));
    await new Promise<void>((r) => ctx.web.listen(0, '127.0.0.1', () => r()));
    const a = ctx.web.address();
    ctx.port = typeof a === 'object' && a ? a.port : 0;
    Object.assign(ctx, await signedInConsole(ctx.cp.url, LONG));
  });

  t.after(async (ctx) => {
    await ctx.browser?.close();
    await killAllAgents();
    ctx.web?.close();
    await ctx.cp?.close();
    if (ctx.cp) await cleanup(ctx.cp.dataDir);
  });

  t('the port field opens the device page through the proxy; its link and its websocket work', async ({ page, browser, cp, deviceId, port, errors }) => {
    await page.goto(`${cp.url}/devices/${deviceId}`);
    await page.getByRole('heading', { name: 'Web UI on the device' }).waitFor();
    await page.getByLabel('Port').fill(String(port));
    const link = page.getByRole('link', { name: `Open port ${port}` });
    assert.is(await link.getAttribute('href'), `/api/devices/${deviceId}/proxy/${port}/`);
    const [ui] = await Promise.all([browser.waitForEvent('page'), link.click()]);
    ui.setDefaultTimeout(LONG);
    await ui.getByRole('heading', { name: 'Device UI' }).waitFor();
    await ui.locator('#msg', { hasText: 'hello-from-device' }).waitFor();
    await screenshot(ui, 'forward-device-ui');
    await ui.getByRole('link', { name: 'next page' }).click();
    await ui.getByRole('heading', { name: 'second page' }).waitFor();
    assert.is(new URL(ui.url()).pathname, `/api/devices/${deviceId}/proxy/${port}/next`);
    assert.is(await ui.locator('#q').textContent(), '/next?x=1');
    assert.equal(errors, []);
  });

  t.run();
}
