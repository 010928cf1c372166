// The console's Jobs page over real agents: the list with progress bars, the per-device drill-down
// with its output, and cancel from the browser.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BrowserContext, Page } from 'playwright-core';
import { adminApi, cleanup, killAllAgents, startTestControlPlane, type Api, type TestControlPlane } from '../helpers/harness.js';
import { finished, jobAgent, type JobAgent } from '../jobs/fixtures.js';
import { browserAvailable, consolePage, logIn, screenshot } from './browser.js';

interface Ctx { cp: TestControlPlane; api: Api; agents: JobAgent[]; browser: BrowserContext; page: Page; errors: string[] }
const t = suite<Ctx>('web console: jobs');
const LONG = 30_000;

if (!browserAvailable()) {
  t.skip('browser tests (no Chromium)', () => undefined);
  t.run();
} else {
  t.before(async (ctx) => {
    ctx.cp = await startTestControlPlane();
    ctx.api = await adminApi(ctx.cp);
    ctx.agents = [await jobAgent(ctx.cp, ctx.api, 'web-a', ['lab']), await jobAgent(ctx.cp, ctx.api, 'web-b', ['lab'])];
    Object.assign(ctx, await consolePage(LONG));
  });
  t.after(async (ctx) => {
    await ctx.browser?.close().catch(() => undefined);
    await killAllAgents();
    await ctx.cp?.close();
    if (ctx.cp) await cleanup(ctx.cp.dataDir, ...(ctx.agents ?? []).map((a) => a.stateDir));
  });

  t('the list shows progress; the drill-down shows each device, its exit code and output', async ({ page, cp, api, errors }) => {
    const ok = await api.request('POST', '/api/jobs', { operation: { kind: 'action', spec: { call: 'mark', params: ['w'] } }, select: { tags: ['lab'] } });
    const bad = await api.request('POST', '/api/jobs', { operation: { kind: 'action', spec: { call: 'fail' } }, select: { names: ['web-b'] } });
    await finished(api, ok.body.id);
    await finished(api, bad.body.id);
    await logIn(page, `${cp.url}/jobs`);
    const jobs = page.getByRole('table', { name: 'Jobs' });
    const okRow = jobs.locator(`tr[data-job="${ok.body.id}"]`);
    await okRow.getByRole('progressbar', { name: 'Devices done' }).and(page.locator('[aria-valuetext="2 of 2 done"]')).waitFor();
    await okRow.getByText('2 succeeded').waitFor();
    await jobs.locator(`tr[data-job="${bad.body.id}"]`).getByText('1 failed').waitFor();
    await screenshot(page, 'jobs-list');
    await okRow.getByRole('link', { name: ok.body.id.slice(0, 8) }).click();
    const devices = page.getByRole('table', { name: 'Devices' });
    const a = devices.locator('tr[data-device="web-a"]');
    await a.getByText('succeeded').waitFor();
    await a.getByText('Output').click();
    await a.getByText('marked w').waitFor();
    await page.goto(`${cp.url}/jobs/${bad.body.id}`);
    const b = page.getByRole('table', { name: 'Devices' }).locator('tr[data-device="web-b"]');
    await b.getByText('exited with code 3').waitFor();
    assert.is(await b.locator('td').nth(3).textContent(), '3');
    assert.equal(errors, []);
  });

  t('cancel from the drill-down stops devices that have not started', async ({ page, cp, api }) => {
    const held = await api.request('POST', '/api/jobs', { operation: { kind: 'action', spec: { call: 'hold' } }, select: { tags: ['lab'] }, rollout: { batch: 1 } });
    await page.goto(`${cp.url}/jobs/${held.body.id}`);
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.getByTestId('job-state').getByText('cancelled').waitFor();
    await page.getByRole('table', { name: 'Devices' }).locator('tr[data-device="web-b"]').getByText('cancelled', { exact: true }).waitFor();
    await screenshot(page, 'job-cancelled');
    const job = await finished(api, held.body.id);
    assert.is(job.state, 'cancelled');
  });

  t.run();
}
