// Issue 13 in the browser: the console works under its strict CSP (no violation reported), asks
// for the one-time code when the account has two-factor authentication, and enrolls a second
// factor from "My account".
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BrowserContext, Page } from 'playwright-core';
import { ADMIN_PASSWORD, adminApi, apiClient, cleanup, jsonOf, startTestControlPlane, type Api, type TestControlPlane } from '../helpers/harness.js';
import { base32Decode, totp } from '../../src/auth/totp.js';
import { browserAvailable, consolePage, logIn, screenshot } from './browser.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  browser: BrowserContext;
  page: Page;
  errors: string[];
  csp: string[];
}
const t = suite<Ctx>('console security in Chromium');
const LONG = 30_000;
let offsetMs = 0;
const clock = { now: () => Date.now() + offsetMs, monotonic: () => performance.now() };
const freshCode = (secret: string): string => {
  offsetMs += 30_000;
  return totp(base32Decode(secret), clock.now());
};

if (!browserAvailable()) {
  t.skip('browser tests (no Chromium)', () => undefined);
  t.run();
} else {
  t.before(async (ctx) => {
    ctx.cp = await startTestControlPlane({ clock, args: ['--access-ttl', '86400'] });
    ctx.api = await adminApi(ctx.cp);
    Object.assign(ctx, await consolePage(LONG));
    ctx.csp = [];
    ctx.page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) ctx.csp.push(m.text());
    });
  });
  t.after(async (ctx) => {
    await ctx.browser?.close().catch(() => undefined);
    await ctx.cp?.close();
    if (ctx.cp) await cleanup(ctx.cp.dataDir);
  });

  t('login asks for the one-time code of an account with two-factor authentication', async ({ cp, api, page }) => {
    const password = 'web-totp-password';
    assert.is((await api.request('POST', '/api/users', { username: 'webtotp', password, roleName: 'viewer' })).status, 201);
    const tokens = await jsonOf(await fetch(cp.url + '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'webtotp', password }) }));
    const user = apiClient(cp.url, tokens.accessToken);
    const { secret } = (await user.request('POST', '/api/auth/totp/enroll')).body;
    assert.is((await user.request('POST', '/api/auth/totp/verify', { code: freshCode(secret) })).status, 200);

    await logIn(page, cp.url + '/', 'webtotp', password);
    const codeField = page.getByLabel('One-time code (or a recovery code)');
    await codeField.waitFor();
    await screenshot(page, 'login-totp');
    await codeField.fill(freshCode(secret));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: /log out/i }).waitFor();
    await page.getByRole('button', { name: /log out/i }).click();
    await page.getByLabel('Username or email').waitFor();
  });

  t('My account: enroll an authenticator from the console and get recovery codes', async ({ cp, page }) => {
    await logIn(page, cp.url + '/');
    await page.getByRole('button', { name: /log out/i }).waitFor();
    await page.goto(cp.url + '/admin/account');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = (await page.locator('form[aria-label="Verify authenticator"] code').first().textContent()) ?? '';
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await page.getByLabel('Code from the app').fill(freshCode(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    const codes = (await page.locator('pre.recovery-codes').textContent()) ?? '';
    assert.is(codes.trim().split('\n').length, 10);
    await screenshot(page, 'account-totp');
    const me = await jsonOf(await fetch(cp.url + '/api/auth/check', { headers: { 'x-kvmd-user': 'admin', 'x-kvmd-passwd': ADMIN_PASSWORD + freshCode(secret) } }));
    assert.is(me.user.totp.enabled, true);
  });

  t('no CSP violation and no uncaught error in the page', ({ csp, errors }) => {
    assert.equal(csp, []);
    assert.equal(errors, []);
  });

  t.run();
}
