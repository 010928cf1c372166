// Finding 5 (CSRF and headers) and the login part of finding 9 of issue 13. A same-site page
// (another port on the same host) could create a role with `*` through the cookie session with a
// text/plain body: now cookie writes must come from our own origin and JSON routes need the JSON
// content type. The console and API carry CSP, frame-ancestors 'none' and Referrer-Policy; login
// takes no credentials from the query string except on the PiKVM facade; malformed multipart is a 400.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, cleanup, jsonOf, startTestControlPlane, type TestControlPlane } from '../helpers/harness.js';
import { upgradeStatus, wsUrl } from '../remote-exec/fixtures.js';

const t = suite<{ cp: TestControlPlane; cookie: string; host: string }>('CSRF and security headers');

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.host = new URL(ctx.cp.url).host;
  const res = await fetch(ctx.cp.url + '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json', origin: ctx.cp.url }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  assert.is(res.status, 200);
  ctx.cookie = res.headers.getSetCookie().find((c) => c.startsWith('auth_token='))!.split(';')[0]!;
});
t.after(async (ctx) => {
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

t('the attack as found: a same-site page posts text/plain with the cookie: refused', async ({ cp, cookie, host }) => {
  const evilOrigin = `http://${host.split(':')[0]}:9999`;
  const body = JSON.stringify({ name: 'evil', permissions: ['*'] });
  const crossOrigin = await fetch(cp.url + '/api/roles', { method: 'POST', headers: { cookie, origin: evilOrigin, 'content-type': 'text/plain' }, body });
  assert.is(crossOrigin.status, 403);
  assert.match((await jsonOf(crossOrigin)).error.message, /cross-origin/);
  const nullOrigin = await fetch(cp.url + '/api/roles', { method: 'POST', headers: { cookie, origin: 'null', 'content-type': 'application/json' }, body });
  assert.is(nullOrigin.status, 403, 'an opaque origin (sandboxed frame, data: page) is not ours');
  const refererElsewhere = await fetch(cp.url + '/api/roles', { method: 'POST', headers: { cookie, referer: `${evilOrigin}/page`, 'content-type': 'application/json' }, body });
  assert.is(refererElsewhere.status, 403);
  const textPlain = await fetch(cp.url + '/api/roles', { method: 'POST', headers: { cookie, origin: cp.url, 'content-type': 'text/plain' }, body });
  assert.is(textPlain.status, 415, 'JSON routes need the JSON content type even from our origin');
  const roles = await (await fetch(cp.url + '/api/roles', { headers: { cookie } })).json();
  assert.ok(!JSON.stringify(roles).includes('evil'));
});

t('our own origin (Origin or Referer) with JSON works; header credentials and non-browser cookie clients need no Origin', async ({ cp, cookie }) => {
  const curlLike = await fetch(cp.url + '/api/roles', { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'curl-like', permissions: [] }) });
  assert.is(curlLike.status, 201, 'no Origin and no Referer: not a browser, so not CSRF');
  const ok = await fetch(cp.url + '/api/roles', { method: 'POST', headers: { cookie, origin: cp.url, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'fine', permissions: ['devices.read'] }) });
  assert.is(ok.status, 201);
  const viaReferer = await fetch(cp.url + '/api/roles', { method: 'POST', headers: { cookie, referer: `${cp.url}/admin`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'fine2', permissions: [] }) });
  assert.is(viaReferer.status, 201);
  const basic = 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
  const headerAuth = await fetch(cp.url + '/api/roles', { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'fine3', permissions: [] }) });
  assert.is(headerAuth.status, 201);
});

t('a cookie websocket from another origin is refused (cross-site websocket hijacking)', async ({ cp, cookie, host }) => {
  assert.is(await upgradeStatus(wsUrl(cp, '/api/events'), { cookie, origin: `http://${host.split(':')[0]}:9999` }), 403);
  assert.is(await upgradeStatus(wsUrl(cp, '/api/events'), { cookie, origin: cp.url }), 101);
});

t('a login from a foreign Origin is refused (login CSRF)', async ({ cp }) => {
  const res = await fetch(cp.url + '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  assert.is(res.status, 403);
});

t('security headers: strict CSP with frame-ancestors none on the console, Referrer-Policy, nosniff', async ({ cp }) => {
  const page = await fetch(cp.url + '/');
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/, 'no inline or eval scripts');
  assert.match(csp, /frame-ancestors 'none'/);
  assert.is(page.headers.get('referrer-policy'), 'no-referrer');
  assert.is(page.headers.get('x-frame-options'), 'DENY');
  const api = await fetch(cp.url + '/api/health');
  assert.match(api.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  assert.is(api.headers.get('x-content-type-options'), 'nosniff');
});

t('login: no credentials in the query string (except the PiKVM facade); malformed multipart is 400, not 500', async ({ cp }) => {
  const query = await fetch(cp.url + `/api/auth/login?user=admin&passwd=${ADMIN_PASSWORD}`, { method: 'POST' });
  assert.is(query.status, 400);
  assert.match((await jsonOf(query)).error.message, /query string/);
  const multipart = await fetch(cp.url + '/api/auth/login', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, body: '--xyz\r\nContent-Disposition: form-data; name="user"\r\n\r\nadmin\r\n--xy' });
  assert.is(multipart.status, 400);
  const noBoundary = await fetch(cp.url + '/api/auth/login', { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'garbage' });
  assert.is(noBoundary.status, 400);
  const good = new FormData();
  good.set('user', 'admin');
  good.set('passwd', ADMIN_PASSWORD);
  assert.is((await fetch(cp.url + '/api/auth/login', { method: 'POST', body: good })).status, 200, 'a well-formed multipart login works');
});

t.run();
