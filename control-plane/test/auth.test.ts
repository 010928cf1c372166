import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, adminApi, apiClient, login, jsonOf } from './helpers/harness.js';
import { memoryControlPlane, type MemoryControlPlane } from './helpers/memory-app.js';

// Routes only: the app in memory (no listener, no broker).
const t = suite<{ cp: MemoryControlPlane }>('auth');

t.before(async (ctx) => {
  ctx.cp = await memoryControlPlane();
});
t.after(async (ctx) => {
  await ctx.cp.close();
});

t('JSON login returns tokens and sets an HttpOnly SameSite=Strict auth_token cookie', async ({ cp }) => {
  const res = await cp.fetch(cp.url + '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  assert.is(res.status, 200);
  const body = await jsonOf(res);
  assert.type(body.accessToken, 'string');
  assert.type(body.refreshToken, 'string');
  assert.ok(body.expiresIn > 0);
  const cookies = res.headers.getSetCookie();
  const auth = cookies.find((c) => c.startsWith('auth_token='));
  assert.ok(auth, 'auth_token cookie set');
  assert.match(auth!, /HttpOnly/);
  assert.match(auth!, /SameSite=Strict/);
});

t('PiKVM-style form login (user/passwd) works, and the cookie authenticates', async ({ cp }) => {
  const res = await cp.fetch(cp.url + '/api/auth/login', { method: 'POST', body: new URLSearchParams({ user: 'admin', passwd: ADMIN_PASSWORD }) });
  assert.is(res.status, 200);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('auth_token='))!.split(';')[0]!;
  const check = await cp.fetch(cp.url + '/api/auth/check', { headers: { cookie } });
  assert.is(check.status, 200);
});

t('wrong credentials give 403; malformed login bodies give 400', async ({ cp }) => {
  const wrong = await cp.fetch(cp.url + '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'nope-nope' }) });
  assert.is(wrong.status, 403);
  const form = await cp.fetch(cp.url + '/api/auth/login', { method: 'POST', body: new URLSearchParams({ user: 'admin', passwd: 'bad' }) });
  assert.is(form.status, 403);
  const broken = await cp.fetch(cp.url + '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
  assert.is(broken.status, 400);
  const missing = await cp.fetch(cp.url + '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'x' }) });
  assert.is(missing.status, 400);
  assert.match((await jsonOf(missing)).error.message, /username or email/);
});

t('check: 401 without credentials, 403 with wrong ones, 200 with each accepted method', async ({ cp }) => {
  const check = (headers: Record<string, string>) => cp.fetch(cp.url + '/api/auth/check', { headers }).then((r) => r.status);
  assert.is(await check({}), 401);
  assert.is(await check({ authorization: 'Bearer eha_garbage' }), 403);
  assert.is(await check({ 'x-kvmd-user': 'admin', 'x-kvmd-passwd': 'wrong' }), 403);
  const { accessToken } = await login(cp);
  assert.is(await check({ authorization: `Bearer ${accessToken}` }), 200);
  assert.is(await check({ 'x-kvmd-user': 'admin', 'x-kvmd-passwd': ADMIN_PASSWORD }), 200);
  assert.is(await check({ 'x-edgehook-user': 'admin', 'x-edgehook-passwd': ADMIN_PASSWORD }), 200);
  assert.is(await check({ authorization: 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64') }), 200);
  const basicWrong = await cp.fetch(cp.url + '/api/auth/check', { headers: { authorization: 'Basic ' + Buffer.from('admin:x').toString('base64') } });
  assert.is(basicWrong.status, 403);
  assert.is(basicWrong.headers.get('www-authenticate'), null, 'no Basic challenge, as PiKVM');
});

t('refresh rotates; a reused refresh token is refused and revokes the session', async ({ cp }) => {
  const first = await login(cp);
  const r1 = await cp.fetch(cp.url + '/api/auth/refresh', { method: 'POST', headers: { authorization: `Bearer ${first.refreshToken}` } });
  assert.is(r1.status, 200);
  const second = await jsonOf(r1);
  assert.is.not(second.refreshToken, first.refreshToken);
  // Encedeus clients refresh with GET.
  const r2 = await cp.fetch(cp.url + '/api/auth/refresh', { headers: { authorization: `Bearer ${second.refreshToken}` } });
  assert.is(r2.status, 200);
  const third = await jsonOf(r2);
  const oldAccess = await cp.fetch(cp.url + '/api/auth/check', { headers: { authorization: `Bearer ${first.accessToken}` } });
  assert.is(oldAccess.status, 403, 'access tokens of a rotated pair stop working');
  const reuse = await cp.fetch(cp.url + '/api/auth/refresh', { method: 'POST', headers: { authorization: `Bearer ${first.refreshToken}` } });
  assert.is(reuse.status, 403);
  assert.match((await jsonOf(reuse)).error.message, /already used/);
  const afterTheft = await cp.fetch(cp.url + '/api/auth/check', { headers: { authorization: `Bearer ${third.accessToken}` } });
  assert.is(afterTheft.status, 403, 'the whole session is revoked after reuse');
  const noToken = await cp.fetch(cp.url + '/api/auth/refresh', { method: 'POST' });
  assert.is(noToken.status, 401);
});

t('logout revokes the session', async ({ cp }) => {
  const { accessToken, refreshToken } = await login(cp);
  const out = await cp.fetch(cp.url + '/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
  assert.is(out.status, 200);
  assert.is((await cp.fetch(cp.url + '/api/auth/check', { headers: { authorization: `Bearer ${accessToken}` } })).status, 403);
  assert.is((await cp.fetch(cp.url + '/api/auth/refresh', { method: 'POST', headers: { authorization: `Bearer ${refreshToken}` } })).status, 403);
});

t('a role without rights is refused everywhere it lacks a permission', async ({ cp }) => {
  const admin = await adminApi(cp);
  const role = await admin.request('POST', '/api/roles', { name: 'readers', permissions: ['devices.read'] });
  assert.is(role.status, 201);
  const user = await admin.request('POST', '/api/users', { username: 'rita', password: 'rita-password', roleName: 'readers' });
  assert.is(user.status, 201);
  const rita = apiClient(cp, (await login(cp, 'rita', 'rita-password')).accessToken);
  assert.is((await rita.request('GET', '/api/devices')).status, 200);
  for (const [method, path, body] of [
    ['POST', '/api/enrollment-tokens', {}],
    ['GET', '/api/users', undefined],
    ['POST', '/api/users', { username: 'x', password: 'xxxxxxxx', roleName: 'admin' }],
    ['POST', '/api/roles', { name: 'evil', permissions: ['*'] }],
    ['PATCH', `/api/users/${user.body.id}`, { roleName: 'admin' }],
    ['DELETE', '/api/devices/whatever', undefined],
    ['POST', '/api/devices/whatever/ping', undefined],
  ] as const) {
    const res = await rita.request(method, path, body);
    assert.is(res.status, 403, `${method} ${path} must be forbidden, got ${res.status}`);
    assert.is(res.body.error.code, 'FORBIDDEN');
  }
  // Users may read themselves and change their own password, which ends their sessions.
  assert.is((await rita.request('GET', `/api/users/${user.body.id}`)).status, 200);
  const noCurrent = await rita.request('PATCH', `/api/users/${user.body.id}`, { password: 'new-rita-password' });
  assert.is(noCurrent.status, 400, 'changing one\'s own password needs the current one');
  assert.match(noCurrent.body.error.message, /currentPassword/);
  assert.is((await rita.request('PATCH', `/api/users/${user.body.id}`, { password: 'new-rita-password', currentPassword: 'wrong-one' })).status, 403);
  assert.is((await rita.request('PATCH', `/api/users/${user.body.id}`, { password: 'new-rita-password', currentPassword: 'rita-password' })).status, 200);
  assert.is((await rita.request('GET', '/api/devices')).status, 403);
});

t('users and roles: validation, conflicts, built-in protections, Encedeus field names', async ({ cp }) => {
  const admin = await adminApi(cp);
  assert.is((await admin.request('POST', '/api/users', { username: 'a', password: 'short', roleName: 'viewer' })).status, 400);
  assert.is((await admin.request('POST', '/api/users', { username: 'bob', password: 'bob-password', roleName: 'nope' })).status, 400);
  const bob = await admin.request('POST', '/api/users', { name: 'bob', password: 'bob-password', email: 'Bob@Example.com', role_name: 'viewer' });
  assert.is(bob.status, 201);
  assert.is(bob.body.username, 'bob');
  assert.is(bob.body.email, 'bob@example.com');
  assert.is((await admin.request('POST', '/api/users', { username: 'bob', password: 'bob-password', roleName: 'viewer' })).status, 409);
  assert.is((await login(cp, 'bob@example.com', 'bob-password')).accessToken.length > 10, true, 'login by email');
  const roles = await admin.request('GET', '/api/roles');
  const adminRole = roles.body.find((r: { name: string }) => r.name === 'admin');
  assert.is((await admin.request('DELETE', `/api/roles/${adminRole.id}`)).status, 409);
  assert.is((await admin.request('PATCH', `/api/roles/${adminRole.id}`, { permissions: ['devices.read'] })).status, 409);
  assert.is((await admin.request('POST', '/api/roles', { name: 'bad', permissions: ['devices.fly'] })).status, 400);
  const me = await admin.request('GET', '/api/auth/check');
  assert.is((await admin.request('DELETE', `/api/users/${me.body.user.id}`)).status, 409);
  assert.is((await admin.request('DELETE', `/api/users/${bob.body.id}`)).status, 204);
  assert.is((await admin.request('GET', `/api/users/${bob.body.id}`)).status, 404);
});

t.run();
