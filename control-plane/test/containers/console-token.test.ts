// The Wings console token lifecycle: "token expiring" ahead of expiry, "token expired" at it (the
// console stops answering), and a fresh token sent with `auth` on the same socket resumes it. The
// control plane runs on a clock the test can move, so ten minutes pass in a moment.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, killAllAgents, startTestControlPlane, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { containerAgent, wingsConsole } from './fixtures.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
  agent: AgentProcess & { deviceId: string };
}
const t = suite<Ctx>('Wings console token lifecycle');
let offsetMs = 0;
const clock = { now: () => Date.now() + offsetMs, monotonic: () => performance.now() };

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane({ clock });
  ctx.api = await adminApi(ctx.cp);
  ctx.agent = await containerAgent(ctx.cp, ctx.api, 'simulated', 'token-dev');
  const put = await ctx.api.request('PUT', `/api/devices/${ctx.agent.deviceId}/servers`, { servers: [{ name: 'tok1', image: 'sim/echo' }] });
  if (put.status !== 200) throw new Error(JSON.stringify(put.body));
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

t('expiring, expired (commands refused), then re-auth on the same socket resumes the console', async (ctx) => {
  const c = await wingsConsole(ctx.cp, ctx.api, ctx.agent.deviceId, 'tok1', { auth: false });
  const first = await ctx.api.request('GET', `/api/devices/${ctx.agent.deviceId}/containers/tok1/websocket`);
  // The token was issued now; the socket checks it ~3 s before its 10 minutes are up.
  offsetMs = 10 * 60_000 - 3000;
  c.send('auth', first.body.data.token);
  await c.next('auth success');
  await c.next('token expiring');
  await c.next('token expired', () => true, 15_000);
  c.send('send command', 'after expiry');
  assert.match((await c.next('daemon error'))[0] ?? '', /auth/);
  // The access token of the session is refreshed by the API client's login; fetch a new console token.
  const fresh = await ctx.api.request('GET', `/api/devices/${ctx.agent.deviceId}/containers/tok1/websocket`);
  assert.is(fresh.status, 200, JSON.stringify(fresh.body));
  c.send('auth', fresh.body.data.token);
  await c.next('auth success');
  c.send('send command', 'resumed');
  await c.next('console output', (a) => (a[0] ?? '').includes('resumed'));
  c.ws.close();
  offsetMs = 0;
});

t('an expired token is refused outright', async (ctx) => {
  const res = await ctx.api.request('GET', `/api/devices/${ctx.agent.deviceId}/containers/tok1/websocket`);
  const c = await wingsConsole(ctx.cp, ctx.api, ctx.agent.deviceId, 'tok1', { auth: false });
  offsetMs = 10 * 60_000 + 1000;
  c.send('auth', res.body.data.token);
  await c.next('daemon error', (a) => /authentication failed/.test(a[0] ?? ''));
  assert.is((await c.closed).code, 4001);
  offsetMs = 0;
});

t.run();
