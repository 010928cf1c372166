import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { cp as copyDir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { adminApi, cleanup, enrolledAgent, killAllAgents, repoRoot, startTestControlPlane, tempDir, type Api, type TestControlPlane } from '../helpers/harness.js';
import { browserAvailable, consolePage, logIn } from '../web/browser.js';

// The console's fleet page marks a device whose agent is behind the newest published package.
interface Ctx {
  cp: TestControlPlane;
  api: Api;
  work: string;
  browser: BrowserContext;
  page: Page;
}
const t = suite<Ctx>('fleet page: agent versions');

if (!browserAvailable()) {
  t.skip('browser tests (no Chromium)', () => undefined);
  t.run();
} else {
  t.before(async (ctx) => {
    ctx.work = await tempDir('edgehook-fleet-versions-');
    ctx.cp = await startTestControlPlane();
    ctx.api = await adminApi(ctx.cp);
    Object.assign(ctx, await consolePage(30_000));
  });
  t.after(async (ctx) => {
    await ctx.browser?.close().catch(() => undefined);
    await killAllAgents();
    await ctx.cp?.close();
    if (ctx.cp) await cleanup(ctx.cp.dataDir, ctx.work);
  });

  t('a device behind the newest package says so; one that is not does not', async ({ cp, api, work, page }) => {
    const agent = await enrolledAgent(cp, api, { hostname: 'lagging' });
    await logIn(page, `${cp.url}/`);
    const row = page.locator('.fleet-row[data-device="lagging"]');
    await row.waitFor();
    assert.is(await row.getByText(/^behind /).count(), 0, 'the agent runs the newest (built) package');
    // Publish a newer one: the built package relabelled 9.0.0.
    const dir = join(work, 'pkg');
    await copyDir(join(repoRoot, 'agent/dist-package/edgehook-agent'), join(dir, 'edgehook-agent'), { recursive: true });
    const meta = JSON.parse(await readFile(join(dir, 'edgehook-agent/package.json'), 'utf8'));
    await writeFile(join(dir, 'edgehook-agent/package.json'), JSON.stringify({ ...meta, version: '9.0.0' }));
    execFileSync('tar', ['-czf', join(work, 'p.tgz'), '-C', dir, 'edgehook-agent']);
    const res = await fetch(`${cp.url}/api/agent/packages/9.0.0`, { method: 'PUT', headers: { authorization: `Bearer ${api.token}` }, body: await readFile(join(work, 'p.tgz')) });
    assert.is(res.status, 201);
    await page.reload();
    await row.getByText('behind 9.0.0').waitFor();
    assert.is(await row.locator('[data-agent-latest="9.0.0"]').count(), 1);
    await agent.stop();
  });

  t.run();
}
