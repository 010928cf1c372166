import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BrowserContext, Page } from 'playwright-core';
import { adminApi, cleanup, startTestControlPlane, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { png } from '../encedeus/images.js';
import { browserAvailable, consolePage, logIn, screenshot } from './browser.js';

interface Ctx { cp: TestControlPlane; api: Api; browser: BrowserContext; page: Page; errors: string[] }
const t = suite<Ctx>('profile pictures and the account page in the web console (Chromium)');
const LONG = 30_000;

/** Waits until the <img> decoded a real picture (naturalWidth > 0). */
async function decoded(page: Page, selector: string): Promise<number> {
  // Strings, not functions: the tests' tsconfig has no DOM types.
  const probe = `document.querySelector(${JSON.stringify(selector)})`;
  // Polled from here: waitForFunction's polling evaluates a string in the page, which the console's CSP refuses.
  await waitFor('the picture loaded', () => page.evaluate(`(() => { const img = ${probe}; return !!img && img.complete && img.naturalWidth > 0; })()`), LONG, 100);
  return Number(await page.evaluate(`${probe}.naturalWidth`));
}

if (!browserAvailable()) {
  t.skip('browser tests (no Chromium)', () => undefined);
  t.run();
} else {
  t.before(async (ctx) => {
    ctx.cp = await startTestControlPlane();
    ctx.api = await adminApi(ctx.cp);
    Object.assign(ctx, await consolePage(LONG));
  });
  t.after(async (ctx) => {
    await ctx.browser?.close().catch(() => undefined);
    await ctx.cp?.close();
    await cleanup(ctx.cp?.dataDir ?? '');
  });

  t('header: the initial until a picture is chosen, then the picture; a non-image is refused with a message', async ({ cp, page }) => {
    await logIn(page, `${cp.url}/`);
    await page.locator('.who .avatar-initial').waitFor();
    await page.locator('.who input[type=file]').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png(40, 40) });
    assert.is(await decoded(page, '.who img.avatar'), 40);
    await page.locator('.who input[type=file]').setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('<html>not an image</html>') });
    await page.locator('.who [role=alert]').filter({ hasText: 'not a PNG, JPEG or WebP' }).waitFor();
    await screenshot(page, 'avatar-header');
  });

  t('admin users: pictures per user, set by an admin; deleting the user deletes the picture', async ({ cp, api, page, errors }) => {
    const created = await api.request('POST', '/api/users', { username: 'pia', password: 'pia-password-1', roleName: 'viewer' });
    await page.goto(`${cp.url}/admin/users`);
    const row = page.getByRole('row').filter({ hasText: 'pia' });
    await row.locator('.avatar-initial').waitFor();
    await row.locator('input[type=file]').setInputFiles({ name: 'pia.png', mimeType: 'image/png', buffer: png(24, 24, [20, 120, 200]) });
    assert.is(await decoded(page, `img.avatar[src*="${created.body.id}"]`), 24);
    await screenshot(page, 'avatar-admin');
    assert.is((await api.request('GET', `/api/users/${created.body.id}/avatar`)).status, 200);
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete user' }).click();
    await row.waitFor({ state: 'detached' });
    assert.is((await api.request('GET', `/api/users/${created.body.id}/avatar`)).status, 404);
    assert.equal(errors, []);
  });

  t('account: SSH keys for SFTP are added (a private key refused in the form) and removed', async ({ cp, page, api, errors }) => {
    await page.goto(`${cp.url}/account`);
    const form = page.getByRole('form', { name: 'Add SSH key' });
    await form.getByLabel('Public key').fill('-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----');
    await form.getByRole('button', { name: 'Add key' }).click();
    await form.getByRole('alert').filter({ hasText: 'private key' }).waitFor();
    const line = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@browser';
    await form.getByLabel('Name (optional)').fill('browser key');
    await form.getByLabel('Public key').fill(line);
    await form.getByRole('button', { name: 'Add key' }).click();
    const row = page.getByRole('table', { name: 'Your SSH keys' }).getByRole('row').filter({ hasText: 'browser key' });
    await row.getByText(/^SHA256:/).waitFor();
    assert.is((await api.request('GET', '/api/users/me/ssh-keys')).body.length, 1);
    await screenshot(page, 'account-ssh-keys');
    await row.getByRole('button', { name: 'Remove' }).click();
    await row.waitFor({ state: 'detached' });
    assert.is((await api.request('GET', '/api/users/me/ssh-keys')).body.length, 0);
    assert.equal(errors, []);
  });

  t.run();
}
