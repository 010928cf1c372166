import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { ADMIN_PASSWORD, adminApi, cleanup, createEnrollmentToken, killAllAgents, spawnAgent, startTestControlPlane, tempDir, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { userWith } from '../hardware/kvm-helpers.js';
import { browserAvailable, consolePage, logIn, screenshot } from './browser.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  agent: AgentProcess;
  deviceId: string;
  deviceName: string;
  browser: BrowserContext;
  page: Page;
  errors: string[];
}
const t = suite<Ctx>('web console in Chromium');
const LONG = 30_000;
const actions = fileURLToPath(new URL('../../../agent/demo/actions.json', import.meta.url));

if (!browserAvailable()) {
  t.skip('browser tests (no Chromium)', () => undefined);
  t.run();
} else {
  t.before(async (ctx) => {
    ctx.cp = await startTestControlPlane();
    ctx.api = await adminApi(ctx.cp);
    const token = await createEnrollmentToken(ctx.api);
    ctx.deviceName = 'web-demo';
    ctx.agent = spawnAgent({
      server: ctx.cp.url,
      token,
      stateDir: await tempDir('edgehook-agent-'),
      hostname: ctx.deviceName,
      profile: 'simulated',
      extraArgs: ['--actions', actions, '--pty', 'node-pty', '--telemetry-interval', '1s', '--telemetry-port', 'off', '--container-engine', 'simulated'],
    });
    ctx.deviceId = await waitFor('agent enrollment', () => /"deviceId":"([^"]+)"/.exec(ctx.agent.output())?.[1], LONG);
    await waitFor('device online', async () => (await ctx.api.request('GET', `/api/devices/${ctx.deviceId}`)).body?.online === true, LONG);
    Object.assign(ctx, await consolePage(LONG));
  });

  t.after(async (ctx) => {
    await ctx.browser?.close().catch(() => undefined);
    await killAllAgents();
    await ctx.cp?.close();
    if (ctx.cp) await cleanup(ctx.cp.dataDir);
  });

  t('the control plane serves the console with caching rules and keeps API paths', async ({ cp }) => {
    const index = await fetch(`${cp.url}/`);
    assert.is(index.status, 200);
    assert.is(index.headers.get('cache-control'), 'no-cache');
    const html = await index.text();
    const entry = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(entry, 'index.html loads a hashed entry script');
    const js = await fetch(`${cp.url}${entry}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.is(js.status, 200);
    assert.is(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const deep = await fetch(`${cp.url}/devices/whatever/terminal`, { headers: { accept: 'text/html' } });
    assert.is(await deep.text(), html);
    // Not a page request: the API's JSON 404, not the app.
    // /role is Encedeus's API path (401 without a token); any other unknown path is the JSON 404.
    const script = await fetch(`${cp.url}/role`);
    assert.is(script.status, 401);
    assert.match(script.headers.get('content-type') ?? '', /json/);
    const unknown = await fetch(`${cp.url}/no-such-thing/x`);
    assert.is(unknown.status, 404);
    assert.match(unknown.headers.get('content-type') ?? '', /json/);
    const api = await fetch(`${cp.url}/api/definitely-not-here`);
    assert.match(api.headers.get('content-type') ?? '', /json/);
    const traversal = await fetch(`${cp.url}/assets/..%2f..%2fpackage.json`);
    assert.not.match(await traversal.text(), /"name"/);
  });

  t('login: a wrong password shows an error, the right one opens the fleet with the device online', async ({ cp, page, deviceName }) => {
    await logIn(page, `${cp.url}/`, 'admin', 'not-the-password');
    await page.getByRole('alert').filter({ hasText: 'wrong username or password' }).waitFor();
    await screenshot(page, 'login');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    const row = page.locator(`.fleet-row[data-device="${deviceName}"]`);
    await row.waitFor();
    await page.locator(`.fleet-row[data-device="${deviceName}"][data-online="true"]`).waitFor();
    // Latest CPU arrives from /api/telemetry/latest (the agent reports every second).
    await waitFor('cpu in the fleet list', async () => /\d/.test((await row.locator('.num').first().textContent()) ?? ''), LONG, 500).catch(() => undefined);
    await screenshot(page, 'fleet');
  });

  t('fleet search filters the list and presence updates live', async ({ page, deviceName, api }) => {
    await page.getByLabel('Search').fill('no-such-device-xyz');
    await page.getByText('No device matches.').waitFor();
    await page.getByLabel('Search').fill(deviceName.slice(0, 5));
    await page.locator(`.fleet-row[data-device="${deviceName}"]`).waitFor();
    // A second device enrolled while the page is open appears without a reload.
    const token = await createEnrollmentToken(api);
    const other = spawnAgent({ server: api.base, token, stateDir: await tempDir('edgehook-agent-'), hostname: 'web-second', profile: 'simulated', extraArgs: ['--telemetry-port', 'off', '--pty', 'simulated'] });
    await page.getByLabel('Search').fill('');
    await page.locator('.fleet-row[data-device="web-second"][data-online="true"]').waitFor();
    await other.stop();
    await page.locator('.fleet-row[data-device="web-second"][data-online="false"]').waitFor();
    // An offline device says why its actions are unavailable.
    await page.locator('.fleet-row[data-device="web-second"]').click();
    await page.getByRole('note').filter({ hasText: 'The device is offline' }).waitFor();
    await page.getByRole('tab', { name: 'Processes' }).click();
    assert.ok(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled());
    await page.getByRole('link', { name: '← Fleet' }).click();
  });

  t('add device shows the exact agent command with a fresh token', async ({ page, cp }) => {
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.getByRole('button', { name: 'Create token' }).click();
    const install = await page.getByTestId('install-command').textContent();
    assert.is(install, `curl -fsSL ${cp.url}/install.sh | sudo sh -s -- --token-file - --profile raspberry-pi-4b`);
    assert.match((await page.getByTestId('enroll-token').textContent()) ?? '', /^ehe_\S{10,}$/);
    const cmd = await page.getByTestId('agent-command').textContent();
    assert.match(cmd ?? '', new RegExp(`node agent/dist/main\\.js --server ${cp.url.replace(/[.]/g, '\\.')} --enroll-token-file -`));
    assert.not.match(cmd ?? '', /ehe_/);
    await page.getByRole('button', { name: 'Done' }).click();
  });

  t('device overview', async ({ page, deviceName }) => {
    await page.locator(`.fleet-row[data-device="${deviceName}"]`).click();
    await page.getByRole('heading', { name: deviceName }).waitFor();
    await page.getByTestId('device-status').filter({ hasText: 'online' }).waitFor();
    await page.getByText('simulated').first().waitFor();
    await page.getByRole('heading', { name: 'Hardware info' }).waitFor();
    // Readable facts, not JSON: board profile, temperatures in °C, throttling in words, kernel, agent.
    const facts = page.getByTestId('hardware-info');
    await facts.waitFor();
    const text = (await facts.textContent()) ?? '';
    assert.not.match(text, /[{}"]/, 'no raw JSON');
    assert.match(text, /Board profilesimulated/);
    assert.match(text, /Temperature.*(°C|unknown)/);
    assert.match(text, /Throttling(none|not reported|Under-voltage|Frequency|Throttled)/);
    assert.match(text, /KernelLinux \S+/);
    assert.match(text, /AgentEdgehook \S+, Node\.js v?\d+/);
    await screenshot(page, 'device-overview');
  });

  t('terminal: run a command in a real shell, reload and reattach with the output', async ({ page }) => {
    await page.getByRole('tab', { name: 'Terminal' }).click();
    await page.getByTestId('shell-status').filter({ hasText: /connected|reattached/ }).waitFor();
    await page.locator('.xterm-helper-textarea').first().focus();
    await page.keyboard.type('echo web-$((6*7))-ok\n');
    const rows = page.locator('.xterm-rows').first();
    await waitFor('command output in xterm', async () => /web-42-ok/.test((await rows.textContent()) ?? ''), LONG, 200);
    await screenshot(page, 'terminal');
    await page.reload();
    await page.getByTestId('shell-status').filter({ hasText: 'reattached' }).waitFor();
    await waitFor('replayed output after reattach', async () => /web-42-ok/.test((await page.locator('.xterm-rows').first().textContent()) ?? ''), LONG, 200);
  });

  t('telemetry: points appear in the chart', async ({ page }) => {
    await page.getByRole('tab', { name: 'Telemetry' }).click();
    const chart = page.getByTestId('telemetry-chart');
    await chart.locator('canvas').waitFor();
    await waitFor('chart points', async () => Number(await chart.getAttribute('data-points')) >= 2, LONG, 250);
    await screenshot(page, 'telemetry');
  });

  t('processes: the echo action runs with input and its result', async ({ page }) => {
    await page.getByRole('tab', { name: 'Processes' }).click();
    // The declared actions come from the device, with their descriptions and parameter rules.
    const list = page.getByRole('group', { name: 'Action' });
    await list.getByText('How long the device has been up.').waitFor();
    await list.getByText('1 parameter, each matching [0-9]{1,5}').waitFor();
    // The form checks the rules before anything runs.
    await page.getByRole('radio', { name: /^sleep/ }).check();
    await page.getByLabel(/^Parameters/).fill('soon');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Parameter 1 ("soon") must match [0-9]{1,5}.' }).waitFor();
    await page.getByLabel(/^Parameters/).fill('1 2');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'sleep takes 1 parameter; you gave 2.' }).waitFor();
    assert.is(await page.getByTestId('process-output').textContent(), '', 'nothing ran');
    await page.getByRole('radio', { name: /^echo/ }).check();
    await page.getByLabel(/^Parameters/).fill('alpha "beta gamma"');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('button', { name: 'Running…' }).waitFor();
    await page.getByRole('textbox', { name: 'Input', exact: true }).fill('hello from the browser');
    await page.getByRole('button', { name: 'Send input' }).click();
    await page.getByTestId('process-output').filter({ hasText: 'hello from the browser' }).waitFor();
    await page.getByRole('button', { name: 'Close input' }).click();
    const result = page.getByTestId('process-result');
    await result.waitFor();
    assert.match((await result.textContent()) ?? '', /fulfilled: \["alpha","beta gamma"\]/);
    await screenshot(page, 'processes');
  });

  t('hardware: ATX power turns the power LED on; hard off asks first and turns it off', async ({ page }) => {
    await page.getByRole('tab', { name: 'Hardware' }).click();
    const led = page.getByTestId('led-power');
    await page.locator('[data-testid="led-power"][data-state="off"]').waitFor();
    await page.getByText('live', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Power on' }).click();
    await page.locator('[data-testid="led-power"][data-state="on"]').waitFor();
    await screenshot(page, 'hardware');
    await page.getByRole('button', { name: 'Hard off' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.is(await led.getAttribute('data-state'), 'on', 'nothing happens before confirming');
    await dialog.getByRole('button', { name: 'Hard off' }).click();
    await page.locator('[data-testid="led-power"][data-state="off"]').waitFor({ timeout: 60_000 });
  });

  t('hardware: GPIO switch and pulse change the state shown, serial echoes, type text reports success', async ({ page }) => {
    const relay = page.getByTestId('gpio-relay');
    await relay.waitFor();
    await page.locator('[data-testid="gpio-relay"][data-state="off"]').waitFor();
    await page.getByRole('switch', { name: 'Switch relay' }).click(); // the switch shows the device's state, not the click
    await page.locator('[data-testid="gpio-relay"][data-state="on"]').waitFor();
    await page.getByRole('switch', { name: 'Switch relay' }).click();
    await page.locator('[data-testid="gpio-relay"][data-state="off"]').waitFor();
    // A pulse is short (0.5 s on the simulated doorbell): record every state the page shows.
    await page.evaluate(`(() => {
      const el = document.querySelector('[data-testid="gpio-doorbell"]');
      const seen = (window.doorbellSeen = []);
      new MutationObserver(() => seen.push(el.getAttribute('data-state') + '/' + el.getAttribute('data-busy'))).observe(el, { attributes: true });
    })()`);
    await page.getByRole('row').filter({ hasText: 'doorbell' }).getByRole('button', { name: 'Pulse' }).click();
    // Polled from here: waitForFunction's polling evaluates a string in the page, which the console's CSP refuses.
    await waitFor('the doorbell shown on', () => page.evaluate(`window.doorbellSeen.some((s) => s.startsWith('on'))`), LONG, 50);
    await page.locator('[data-testid="gpio-doorbell"][data-state="off"][data-busy="false"]').waitFor();
    // Type text through the simulated keyboard.
    await page.getByLabel("Text to type on the device's keyboard").fill('hello pi');
    await page.getByRole('button', { name: 'Type', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'typed 8 characters' }).waitFor();
    // The simulated serial port is a loopback: what we type comes back.
    await page.getByRole('button', { name: 'Open serial console' }).click();
    await page.getByText(/^connected to /).waitFor();
    const serial = page.getByLabel('Serial terminal');
    // xterm pauses rendering while it is out of view: bring it into view first.
    await serial.scrollIntoViewIfNeeded();
    await serial.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('serial-ping-42');
    await waitFor('serial echo in xterm', async () => /serial-ping-42/.test((await serial.locator('.xterm-rows').textContent()) ?? ''), LONG, 200);
    await screenshot(page, 'hardware-serial');
    await page.getByRole('button', { name: 'Close serial console' }).click();
  });

  t('containers: stop and start a container on the simulated engine', async ({ page, api, deviceId }) => {
    const engine = await api.request('GET', `/api/devices/${deviceId}/engine`);
    if (engine.status !== 200) {
      console.log(`containers: no engine (${engine.status}), UI checked for the message only`);
      await page.getByRole('tab', { name: 'Containers' }).click();
      await page.getByRole('note').waitFor();
      return;
    }
    const created = await api.request('POST', `/api/devices/${deviceId}/containers`, { spec: { name: 'web-app', image: 'nginx:alpine' } });
    assert.ok(created.status < 300, `create: ${created.status} ${JSON.stringify(created.body)}`);
    await api.request('POST', `/api/devices/${deviceId}/containers/web-app/power`, { action: 'start' });
    await page.getByRole('tab', { name: 'Containers' }).click();
    const row = page.locator('tr[data-container="web-app"]');
    await row.getByTestId('container-power').filter({ hasText: 'running' }).waitFor();
    await row.getByRole('button', { name: 'Stop', exact: true }).click();
    await row.getByTestId('container-power').filter({ hasText: 'offline' }).waitFor();
    await row.getByRole('button', { name: 'Start', exact: true }).click();
    await row.getByTestId('container-power').filter({ hasText: 'running' }).waitFor();
    // The console speaks Wings frames over the token the panel endpoint hands out.
    await row.getByRole('button', { name: 'web-app' }).click();
    await page.getByText('connected', { exact: true }).waitFor();
    // Stats arrive from the engine; the console echoes a command (the simulated container echoes input).
    await page.getByTestId('container-stats').filter({ hasText: /CPU [\d.]+% · memory/ }).waitFor();
    await page.getByRole('textbox', { name: 'Command' }).fill('echo-from-console');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByTestId('container-console').filter({ hasText: 'echo-from-console' }).waitFor();
    await page.getByRole('tab', { name: 'Logs' }).click();
    await page.getByTestId('container-logs').filter({ hasText: '[simulated] web-app started' }).waitFor();
    await page.getByRole('tab', { name: 'Console' }).click();
    await page.getByText('connected', { exact: true }).waitFor();
    await screenshot(page, 'containers');
    // Files: upload through XMLHttpRequest (progress events), then the listing shows the file.
    await page.getByRole('tab', { name: 'Files' }).click();
    await page.getByRole('table', { name: 'Files' }).waitFor();
    await page.getByLabel('Upload').setInputFiles({ name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from the browser\n') });
    await page.getByRole('table', { name: 'Files' }).getByText('hello.txt').waitFor();
    const download = await api.request('GET', `/api/devices/${deviceId}/servers/web-app/files/content?path=%2Fhello.txt`);
    assert.match(typeof download.body === 'string' ? download.body : JSON.stringify(download.body), /hello from the browser/);
    // Rename, new folder and delete ask in a labelled modal dialog (no window.prompt/confirm).
    const files = page.getByRole('table', { name: 'Files' });
    await files.getByRole('row').filter({ hasText: 'hello.txt' }).getByRole('button', { name: 'Rename' }).click();
    let dialog = page.getByRole('dialog', { name: 'Rename hello.txt' });
    await dialog.waitFor();
    const field = dialog.getByLabel('New name');
    assert.is(await field.inputValue(), 'hello.txt');
    assert.ok(await field.evaluate((el) => el === el.ownerDocument.activeElement), 'the name field has focus');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await files.getByRole('row').filter({ hasText: 'hello.txt' }).getByRole('button', { name: 'Rename' }).click();
    await field.fill('a/b');
    await dialog.getByRole('button', { name: 'Rename' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'A name cannot contain "/".' }).waitFor();
    await field.fill('renamed.txt');
    await field.press('Enter');
    await files.getByText('renamed.txt').waitFor();
    await page.getByRole('button', { name: 'New folder' }).click();
    dialog = page.getByRole('dialog', { name: 'New folder' });
    await dialog.getByLabel('Folder name').fill('logs');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await files.getByRole('button', { name: /logs/ }).waitFor();
    await files.getByRole('row').filter({ hasText: 'renamed.txt' }).getByRole('button', { name: 'Delete' }).click();
    dialog = page.getByRole('dialog', { name: 'Delete renamed.txt?' });
    await dialog.getByText('It cannot be undone.').waitFor();
    await screenshot(page, 'container-files-delete');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await files.getByText('renamed.txt').waitFor({ state: 'detached' });
  });

  t('admin: users, roles and enrollment tokens', async ({ page }) => {
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('table', { name: 'Users' }).getByRole('cell', { name: 'admin', exact: true }).first().waitFor();
    await screenshot(page, 'admin');
    await page.getByRole('tab', { name: 'Roles' }).click();
    await page.getByRole('table', { name: 'Roles' }).getByText('users.admin').first().waitFor().catch(async () => page.getByRole('table', { name: 'Roles' }).locator('code').first().waitFor());
    await page.getByRole('tab', { name: 'Enrollment tokens' }).click();
    await page.getByRole('table', { name: 'Enrollment tokens' }).getByRole('cell', { name: 'active' }).first().waitFor();
    // The audit log: this very console's login is in it, and the filter narrows to one action.
    await page.getByRole('tab', { name: 'Audit log' }).click();
    const audit = page.getByRole('table', { name: 'Audit log' });
    await audit.getByText('auth.login', { exact: true }).first().waitFor();
    await screenshot(page, 'admin-audit');
    await page.getByLabel('Action').fill('tokens.create');
    await page.getByRole('button', { name: 'Filter' }).click();
    // The old rows stay on screen until the filtered page arrives (and they hold tokens.create too):
    // wait for the login rows to go, then the filtered rows must be there.
    await waitFor('the filtered audit page', async () => (await audit.getByText('auth.login', { exact: true }).count()) === 0, LONG, 100);
    await audit.getByText('tokens.create', { exact: true }).first().waitFor();
  });

  t('an expired access cookie is refreshed without leaving the page', async ({ page, browser }) => {
    await page.getByRole('tab', { name: 'Users' }).click();
    await browser.clearCookies({ name: 'auth_token' });
    await page.getByRole('tab', { name: 'Roles' }).click();
    await page.getByRole('table', { name: 'Roles' }).waitFor().catch(async (err: unknown) => {
      await screenshot(page, 'debug-refresh');
      console.log('URL', page.url(), await browser.cookies());
      throw err;
    });
    assert.match(page.url(), /\/admin\/roles$/);
    await page.reload();
    await page.getByRole('table', { name: 'Roles' }).waitFor();
  });

  t('phone width fleet', async ({ page, cp }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${cp.url}/`);
    await page.locator('.fleet-row').first().waitFor();
    await screenshot(page, 'fleet-phone');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'fleet-phone-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  t('a user without permissions sees the controls hidden; logout and login keep the route', async ({ page, api, cp, deviceId, deviceName }) => {
    const viewer = await userWith(api, 'web-viewer', ['devices.read']);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await logIn(page, `${cp.url}/devices/${deviceId}/hardware`, viewer.user, viewer.pass);
    await page.getByRole('heading', { name: deviceName }).waitFor().catch(async (err: unknown) => {
      await screenshot(page, 'debug-viewer');
      throw err;
    });
    assert.match(page.url(), new RegExp(`/devices/${deviceId}/hardware$`));
    await page.getByText('Your role cannot open hardware').waitFor();
    for (const tab of ['Terminal', 'Hardware', 'Processes', 'Telemetry', 'Containers']) assert.is(await page.getByRole('tab', { name: tab }).count(), 0, tab);
    assert.is(await page.getByRole('link', { name: 'Admin' }).count(), 0);
    assert.is(await page.getByRole('button', { name: 'Ping' }).count(), 0);
    await page.getByRole('link', { name: '← Fleet' }).click();
    await page.locator(`.fleet-row[data-device="${deviceName}"]`).waitFor();
    assert.is(await page.getByRole('button', { name: 'Add device' }).count(), 0);
  });

  t('fleet of 5,000 devices: a virtualized list that sorts, searches and scrolls', async ({ page, cp }) => {
    const now = new Date().toISOString();
    const many = Array.from({ length: 5000 }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      name: `pi-${String(i).padStart(4, '0')}`,
      online: i % 3 !== 0,
      lastSeen: now,
      profile: i % 2 ? 'raspberry-pi-4b' : 'raspberry-pi-5',
      agentVersion: '0.1.0',
      hostname: `pi-${i}`,
      tags: [`rack-${i % 10}`],
      hardware: null,
      system: null,
      createdAt: now,
    }));
    // Only the list requests are replaced (paged like the real route: name order, after, limit);
    // events, auth and everything else are the real API.
    const asked: Array<{ after: string | null; limit: string | null }> = [];
    await page.route(/\/api\/devices(\?.*)?$/, (route) => {
      const q = new URL(route.request().url()).searchParams;
      asked.push({ after: q.get('after'), limit: q.get('limit') });
      const after = q.get('after');
      const from = after === null ? 0 : many.findIndex((d) => d.name > after);
      const page = many.slice(from < 0 ? many.length : from, (from < 0 ? many.length : from) + Number(q.get('limit') ?? many.length));
      return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(page) });
    });
    await page.goto(`${cp.url}/`);
    await page.getByText('5000 devices').waitFor();
    // A small first page for the first screen, then larger ones, each resuming after the last name.
    assert.ok(asked.length >= 3, `the list came in pages (${asked.length} requests)`);
    assert.ok(asked.every((a) => a.limit !== null && Number(a.limit) <= 2000), 'every request is a page');
    assert.is(asked[0]?.after, null);
    assert.ok(Number(asked[0]?.limit) < Number(asked[1]?.limit), 'the first page is the small one');
    const rendered = await page.locator('.fleet-row').count();
    assert.ok(rendered > 5 && rendered < 120, `only visible rows are in the DOM (${rendered})`);
    await page.locator('.fleet-viewport').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.locator('.fleet-row[data-device="pi-4999"]').waitFor();
    await page.getByRole('button', { name: /^Name/ }).click();
    await page.locator('.fleet-viewport').evaluate((el) => (el.scrollTop = 0));
    await page.locator('.fleet-row[data-device="pi-4999"]').waitFor();
    await page.getByLabel('Tag').selectOption('rack-7');
    await page.getByLabel('Search').fill('pi-499');
    await page.locator('.fleet-row[data-device="pi-4997"]').waitFor();
    assert.is(await page.locator('.fleet-row').count(), 1);
    await page.unroute(/\/api\/devices(\?.*)?$/);
  });

  t('no uncaught errors in the page', ({ errors }) => {
    assert.equal(errors, []);
  });

  t.run();
}
