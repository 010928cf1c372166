import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EncedeusRefreshResponse, EncedeusRoleResponse, EncedeusRolesResponse, EncedeusSignInResponse, EncedeusUserResponse } from '@edgehook/shared';
import { ADMIN_PASSWORD, cleanup, jsonOf, startTestControlPlane, type TestControlPlane } from '../helpers/harness.js';
import { jsonHeaders, rawRequest } from './http.js';
import { png } from './images.js';

// The seed spec's documented requests (004_b316ed10537bbcd0.txt, "Endpoints documentation"), replayed as written.
const t = suite<{ cp: TestControlPlane; admin: string }>('Encedeus, the seed spec');

t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  const res = await fetch(ctx.cp.url + '/auth/login', { method: 'POST', headers: jsonHeaders(), body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  ctx.admin = EncedeusSignInResponse.parse(await res.json()).accessToken;
});
t.after(async (ctx) => {
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

const post = (cp: TestControlPlane, path: string, body: unknown, token?: string, method = 'POST') =>
  fetch(cp.url + path, { method, headers: jsonHeaders(token), body: JSON.stringify(body) });

t('POST /auth/login with username or email answers {accessToken, refreshToken}; GET /auth/refresh with Bearer refresh answers {accessToken}, more than once', async ({ cp, admin }) => {
  const created = await post(cp, '/user/create', { name: 'sia', password: 'sia-password-1', email: 'Sia@example.org', role_name: 'viewer' }, admin);
  assert.is(created.status, 200);
  for (const login of [{ username: 'sia' }, { email: 'sia@example.org' }]) {
    const res = await post(cp, '/auth/login', { ...login, password: 'sia-password-1' });
    assert.is(res.status, 200);
    const pair = EncedeusSignInResponse.parse(await res.json());
    // The older flow never receives a new refresh token, so the same one must keep working.
    for (let i = 0; i < 3; i++) {
      const r = await fetch(cp.url + '/auth/refresh', { headers: { authorization: `Bearer ${pair.refreshToken}` } });
      assert.is(r.status, 200);
      const { accessToken } = EncedeusRefreshResponse.parse(await r.json());
      const me = await fetch(cp.url + '/api/auth/check', { headers: { authorization: `Bearer ${accessToken}` } });
      assert.is(me.status, 200);
    }
  }
  const wrong = await post(cp, '/auth/login', { username: 'sia', password: 'nope-nope-nope' });
  assert.is(wrong.status, 401);
  assert.equal(await wrong.json(), { message: 'unauthorised' });
  const none = await post(cp, '/auth/login', { password: 'x' });
  assert.is(none.status, 400);
  assert.match((await jsonOf(none)).message, /username or email/);
  const noRefresh = await fetch(cp.url + '/auth/refresh');
  assert.is(noRefresh.status, 401);
  const badRefresh = await fetch(cp.url + '/auth/refresh', { headers: { authorization: 'Bearer ehr_nonsense' } });
  assert.is(badRefresh.status, 401);
});

t('POST /user/create with role_id or role_name; GET /user/:uuid; PATCH /user with id in the body; DELETE /user/:id', async ({ cp, admin }) => {
  const roles = EncedeusRolesResponse.parse(await (await fetch(cp.url + '/role', { headers: jsonHeaders(admin) })).json()).roles;
  const operator = roles.find((r) => r.name === 'operator')!;
  const res = await post(cp, '/user/create', { name: 'ola', password: 'ola-password-1', email: 'ola@example.org', role_id: operator.id.value }, admin);
  assert.is(res.status, 200);
  const { user } = EncedeusUserResponse.parse(await res.json());
  assert.is(user.name, 'ola');
  assert.is(user.roleId.value, operator.id.value);
  const got = EncedeusUserResponse.parse(await (await fetch(cp.url + `/user/${user.id.value}`, { headers: jsonHeaders(admin) })).json());
  assert.is(got.user.email, 'ola@example.org');

  const patched = await post(cp, '/user', { id: user.id.value, name: 'ola2', email: 'ola2@example.org', password: 'ola-password-2', role_name: 'viewer' }, admin, 'PATCH');
  assert.is(patched.status, 200);
  const after = EncedeusUserResponse.parse(await patched.json()).user;
  assert.is(after.name, 'ola2');
  assert.is.not(after.roleId.value, operator.id.value);
  assert.is((await post(cp, '/auth/login', { username: 'ola2', password: 'ola-password-2' })).status, 200);

  assert.is((await post(cp, '/user/create', { name: 'x1', password: 'x-password-1', email: 'x1@example.org', role_name: 'no-such' }, admin)).status, 404);
  assert.is((await post(cp, '/user/create', { name: 'x1', password: 'x-password-1' }, admin)).status, 400);
  assert.is((await post(cp, '/user/create', { name: 'ola2', password: 'x-password-1', email: 'z@example.org', role_name: 'viewer' }, admin)).status, 409);
  assert.is((await post(cp, '/user', { id: user.id.value }, admin, 'PATCH')).status, 400);

  const del = await fetch(cp.url + `/user/${user.id.value}`, { method: 'DELETE', headers: jsonHeaders(admin) });
  assert.is(del.status, 200);
  assert.is((await fetch(cp.url + `/user/${user.id.value}`, { headers: jsonHeaders(admin) })).status, 404);
  assert.is((await fetch(cp.url + '/user/not-a-uuid', { headers: jsonHeaders(admin) })).status, 400);
});

t('PUT /user (multipart file) sets the caller picture; GET /user/pfp/:uuid serves it with an ETag', async ({ cp, admin }) => {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(png(4, 4))]), 'me.png');
  const put = await fetch(cp.url + '/user', { method: 'PUT', headers: { authorization: `Bearer ${admin}` }, body: form });
  assert.is(put.status, 200);
  const me = await jsonOf(await fetch(cp.url + '/api/auth/check', { headers: { authorization: `Bearer ${admin}` } }));
  const pic = await fetch(cp.url + `/user/pfp/${me.user.id}`, { headers: { authorization: `Bearer ${admin}` } });
  assert.is(pic.status, 200);
  assert.is(pic.headers.get('content-type'), 'image/png');
  assert.equal(Buffer.from(await pic.arrayBuffer()), png(4, 4));
  const again = await fetch(cp.url + `/user/pfp/${me.user.id}`, { headers: { authorization: `Bearer ${admin}`, 'if-none-match': pic.headers.get('etag')! } });
  assert.is(again.status, 304);
  const html = new FormData();
  html.set('file', new Blob(['<html>hi</html>']), 'evil.png');
  const refused = await fetch(cp.url + '/user', { method: 'PUT', headers: { authorization: `Bearer ${admin}` }, body: html });
  assert.is(refused.status, 400);
  assert.match((await jsonOf(refused)).message, /not a PNG, JPEG or WebP/);
});

t('roles: GET /role {id}, POST /role, PATCH /role {id}, DELETE /role {id}, with the spec spelling "Authorisation"', async ({ cp, admin }) => {
  const h = jsonHeaders(admin, 'authorisation');
  const created = await rawRequest(cp.url + '/role', 'POST', h, JSON.stringify({ name: 'helpers', permissions: ['create_user', 'devices.read'] }));
  assert.is(created.status, 200, created.text);
  const { role } = EncedeusRoleResponse.parse(JSON.parse(created.text));
  assert.equal(role.permissions, ['users.admin', 'devices.read']);
  const got = await rawRequest(cp.url + '/role', 'GET', h, JSON.stringify({ id: role.id.value }));
  assert.is(got.status, 200);
  assert.is(EncedeusRoleResponse.parse(JSON.parse(got.text)).role.name, 'helpers');
  const patched = await rawRequest(cp.url + '/role', 'PATCH', h, JSON.stringify({ id: role.id.value, name: 'helpers2', permissions: ['*'] }));
  assert.is(patched.status, 200);
  assert.equal(EncedeusRoleResponse.parse(JSON.parse(patched.text)).role.permissions, ['*']);
  const unknown = await rawRequest(cp.url + '/role', 'POST', h, JSON.stringify({ name: 'odd', permissions: ['launch_rockets'] }));
  assert.is(unknown.status, 400);
  assert.match(JSON.parse(unknown.text).message, /unknown permission\(s\) launch_rockets/);
  const del = await rawRequest(cp.url + '/role', 'DELETE', h, JSON.stringify({ id: role.id.value }));
  assert.is(del.status, 200);
  assert.is((await rawRequest(cp.url + '/role', 'GET', h, JSON.stringify({ id: role.id.value }))).status, 404);
  assert.is((await rawRequest(cp.url + '/role', 'POST', { 'content-type': 'application/json' }, '{}')).status, 401);
});

t('API-shaped paths under /auth, /user and /role never answer the console HTML', async ({ cp, admin }) => {
  for (const path of ['/auth/nope', '/user/a/b/c', '/role/x/y']) {
    const res = await fetch(cp.url + path, { headers: { authorization: `Bearer ${admin}`, accept: 'text/html' } });
    assert.ok(res.status >= 400, path);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/, path);
  }
});

t.run();
