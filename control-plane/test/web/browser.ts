import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { ADMIN_PASSWORD, tempDir } from '../helpers/harness.js';

export const CHROMIUM = process.env['EDGEHOOK_CHROMIUM'] ?? '/usr/bin/chromium';
export const SCREENSHOTS = fileURLToPath(new URL('../../../test-artifacts/screenshots/', import.meta.url));

/**
 * Whether the browser tests can run. Without Chromium they are skipped with a clear line, except
 * in CI (`CI=true`), where a missing browser is a failure: `.ci/run` installs it.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env['CI'] === 'true') throw new Error(`${CHROMIUM} is missing: CI must install chromium (apt-get install chromium) for the browser tests`);
  console.log(`\n*** browser tests SKIPPED: ${CHROMIUM} not found (apt-get install chromium, or set EDGEHOOK_CHROMIUM) ***\n`);
  return false;
}

/** Debian's Chromium through playwright-core (never a downloaded browser), fresh profile each time. */
export async function launchBrowser(viewport = { width: 1280, height: 860 }): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  const profile = await tempDir('edgehook-chromium-');
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/** Errors the page logged: a test fails on uncaught exceptions in the console code. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

export interface ConsolePage {
  browser: BrowserContext;
  page: Page;
  /** The page's uncaught errors (collectPageErrors). */
  errors: string[];
}

/** A fresh browser and its page, with `timeoutMs` as every wait's default and page errors collected. */
export async function consolePage(timeoutMs: number): Promise<ConsolePage> {
  const browser = await launchBrowser();
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(timeoutMs);
  return { browser, page, errors: collectPageErrors(page) };
}

/** Opens `url` (any console path shows the login form first) and logs in; the console then shows that path. */
export async function logIn(page: Page, url: string, username = 'admin', password = ADMIN_PASSWORD): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** `consolePage`, logged in as the admin and on the fleet page. */
export async function signedInConsole(cpUrl: string, timeoutMs: number): Promise<ConsolePage> {
  const opened = await consolePage(timeoutMs);
  await logIn(opened.page, `${cpUrl}/`);
  await opened.page.getByRole('heading', { name: 'Fleet' }).waitFor();
  return opened;
}
