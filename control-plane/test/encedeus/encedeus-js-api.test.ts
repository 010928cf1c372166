import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EncedeusRefreshResponse, EncedeusRoleResponse, EncedeusRolesResponse, EncedeusSignInResponse, EncedeusUserResponse, EncedeusUsersResponse } from '@edgehook/shared';
import { ADMIN_PASSWORD } from '../helpers/harness.js';
import { memoryControlPlane, type MemoryControlPlane } from '../helpers/memory-app.js';
import { png } from './images.js';
import { ConfigError, loadServeConfig } from '../../src/config.js';

/**
 * The requests Encedeus's js-api client makes (github.com/Encedeus/js-api, src/services/*.ts at
 * b80e0bf), written from its source: axios with Content-Type application/json, the access token
 * as Bearer on every request once signed in, ts-proto request objects with every field present
 * ("" when unset), ids as {value}. The browser keeps the encedeus_refreshToken cookie; so do we.
 */
class JsApiLike {
  access = '';
  cookie = '';
  constructor(private readonly base: string, private readonly fetch: typeof globalThis.fetch) {}
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; data: any; res: Response }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.access) headers['authorization'] = `Bearer ${this.access}`;
    if (this.cookie) headers['cookie'] = this.cookie;
    const res = await this.fetch(this.base + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    for (const c of res.headers.getSetCookie()) {
      const [kv = ''] = c.split(';');
      this.cookie = /=$/.test(kv) || /Max-Age=0/i.test(c) ? '' : kv;
    }
    const text = await res.text();
    return { status: res.status, data: text ? JSON.parse(text) : '', res };
  }
}

// Routes only: the app in memory (no listener, no broker).
const t = suite<{ cp: MemoryControlPlane }>('Encedeus js-api client requests');
t.before(async (ctx) => {
  ctx.cp = await memoryControlPlane();
});
t.after(async (ctx) => {
  await ctx.cp.close();
});

async function signedIn(cp: MemoryControlPlane, uid = 'admin', password = ADMIN_PASSWORD): Promise<JsApiLike> {
  const api = new JsApiLike(cp.url, cp.fetch);
  const r = await api.call('POST', '/auth/signin', { uid, password });
  assert.is(r.status, 201, 'signInUser expects 201');
  api.access = EncedeusSignInResponse.parse(r.data).accessToken;
  return api;
}

t('signInUser: 201, refresh token in an HttpOnly encedeus_refreshToken cookie; the access token decodes as a JWT with user_id.value and exp', async ({ cp }) => {
  const api = new JsApiLike(cp.url, cp.fetch);
  const r = await api.call('POST', '/auth/signin', { uid: 'admin', password: ADMIN_PASSWORD });
  assert.is(r.status, 201);
  const cookie = r.res.headers.getSetCookie().find((c) => c.startsWith('encedeus_refreshToken='));
  assert.ok(cookie);
  assert.match(cookie!, /HttpOnly/);
  assert.match(cookie!, /SameSite=Strict/);
  assert.match(cookie!, /Path=\//);
  const payload = JSON.parse(Buffer.from(r.data.accessToken.split('.')[1], 'base64url').toString());
  assert.type(payload.user_id.value, 'string');
  assert.ok(payload.exp * 1000 > Date.now());
  // js-api's error mapping: 400 no uid, 401 wrong password.
  assert.is((await api.call('POST', '/auth/signin', { uid: '', password: 'x' })).status, 400);
  assert.is((await api.call('POST', '/auth/signin', { uid: 'admin', password: 'wrong' })).status, 401);
  assert.is((await api.call('POST', '/auth/signin', { uid: 'nobody@example.org', password: 'wrong' })).status, 401);
});

t('refreshAccessToken by cookie (Bearer is the access token), twice; signOut clears the cookie and ends the session', async ({ cp }) => {
  const api = await signedIn(cp);
  for (let i = 0; i < 2; i++) {
    const r = await api.call('GET', '/auth/refresh');
    assert.is(r.status, 200);
    api.access = EncedeusRefreshResponse.parse(r.data).accessToken;
    assert.is((await api.call('GET', '/role')).status, 200);
  }
  const keptCookie = api.cookie;
  const out = await api.call('DELETE', '/auth/signout');
  assert.is(out.status, 200);
  assert.is(api.cookie, '', 'the cookie is cleared');
  assert.is((await api.call('GET', '/role')).status, 401, 'access tokens of the session stop working');
  api.cookie = keptCookie;
  assert.is((await api.call('GET', '/auth/refresh')).status, 401, 'a kept copy of the refresh cookie is dead');
  assert.is((await api.call('DELETE', '/auth/signout')).status, 401);
});

t('roles: findAllRoles, createRole, findRoleById, updateRole, deleteRole (its path is /role/:<id>, colon and all)', async ({ cp }) => {
  const api = await signedIn(cp);
  assert.is((await api.call('POST', '/role', { name: 'jsapi', permissions: ['create_user', 'delete_role'] })).status, 200);
  const all = EncedeusRolesResponse.parse((await api.call('GET', '/role')).data).roles;
  const role = all.find((r) => r.name === 'jsapi')!;
  assert.equal(role.permissions, ['users.admin']);
  const one = await api.call('GET', `/role/${role.id.value}`);
  assert.is(EncedeusRoleResponse.parse(one.data).role.name, 'jsapi');
  assert.is((await api.call('PATCH', '/role', { id: role.id, name: 'jsapi2', permissions: ['devices.*'] })).status, 200);
  const bad = await api.call('PATCH', '/role', { id: role.id, name: '', permissions: ['teleport'] });
  assert.is(bad.status, 400);
  assert.match(bad.data.message, /unknown permission\(s\) teleport/);
  assert.is((await api.call('POST', '/role', { name: 'jsapi2', permissions: ['*'] })).status, 400, 'a taken name is a 400 js-api recognises');
  assert.is((await api.call('DELETE', `/role/:${role.id.value}`)).status, 200);
  assert.is((await api.call('GET', `/role/${role.id.value}`)).status, 404);
  const admin = all.find((r) => r.name === 'admin')!;
  assert.is((await api.call('DELETE', `/role/:${admin.id.value}`)).status, 400, 'built-in roles stay');
});

t('users: createUser, findUserById, findAllWithRole, updateUser, setPfp, change*, deleteUser; refusals are 403 as js-api reads them', async ({ cp }) => {
  const api = await signedIn(cp);
  const viewer = EncedeusRolesResponse.parse((await api.call('GET', '/role')).data).roles.find((r) => r.name === 'viewer')!;
  const create = { name: 'jo', email: 'jo@example.org', password: 'jo-password-1', roleId: viewer.id, roleName: '' };
  assert.is((await api.call('POST', '/user', create)).status, 200);
  assert.is((await api.call('POST', '/user', create)).status, 409, 'UsernameTakenError');
  const listed = EncedeusUsersResponse.parse((await api.call('GET', `/user/role/${viewer.id.value}`)).data).users;
  const jo = listed.find((u) => u.name === 'jo')!;
  assert.is(EncedeusUserResponse.parse((await api.call('GET', `/user/${jo.id.value}`)).data).user.email, 'jo@example.org');
  assert.is((await api.call('PATCH', '/user', { userId: jo.id, name: 'jo2', email: '', password: '', roleId: undefined, roleName: '' })).status, 200);

  // setPfp: axios turns {uuid, file} into multipart.
  const form = new FormData();
  form.set('uuid', jo.id.value);
  form.set('file', new Blob([new Uint8Array(png(2, 2))], { type: 'image/png' }), 'blob');
  const pfp = await cp.fetch(cp.url + '/user', { method: 'PUT', headers: { authorization: `Bearer ${api.access}` }, body: form });
  assert.is(pfp.status, 200);
  assert.is((await cp.fetch(cp.url + `/user/pfp/${jo.id.value}`, { headers: { authorization: `Bearer ${api.access}` } })).headers.get('content-type'), 'image/png');

  const me = await signedIn(cp, 'jo2', 'jo-password-1');
  assert.is((await me.call('POST', '/user', { ...create, name: 'x' })).status, 403, 'a viewer may not create users');
  assert.is((await me.call('PATCH', `/user/${jo.id.value}/changePassword`, { userId: jo.id, oldPassword: 'wrong-one-1', newPassword: 'jo-password-2' })).status, 403, 'WrongPasswordError');
  assert.is((await me.call('PATCH', `/user/${jo.id.value}/changePassword`, { userId: jo.id, oldPassword: 'jo-password-1', newPassword: 'short' })).status, 400);
  assert.is((await me.call('PATCH', `/user/${jo.id.value}/changePassword`, { userId: jo.id, oldPassword: 'jo-password-1', newPassword: 'jo-password-2' })).status, 200);
  assert.is((await me.call('GET', `/user/${jo.id.value}`)).status, 200, 'the caller session survives its own password change');
  assert.is((await me.call('PATCH', `/user/${jo.id.value}/changeEmail`, { userId: jo.id, oldEmail: 'nope@example.org', newEmail: 'jo2@example.org' })).status, 400);
  assert.is((await me.call('PATCH', `/user/${jo.id.value}/changeEmail`, { userId: jo.id, oldEmail: 'jo@example.org', newEmail: 'jo2@example.org' })).status, 200);
  assert.is((await me.call('PATCH', `/user/${jo.id.value}/changeUsername`, { userId: jo.id, oldUsername: 'jo2', newUsername: 'admin' })).status, 400, 'taken');
  assert.is((await me.call('PATCH', `/user/${jo.id.value}/changeUsername`, { userId: jo.id, oldUsername: 'jo2', newUsername: 'jo3' })).status, 200);
  const adminId = JSON.parse(Buffer.from(api.access.split('.')[1]!, 'base64url').toString()).user_id.value;
  assert.is((await me.call('PATCH', `/user/${adminId}/changeUsername`, { userId: { value: adminId }, oldUsername: 'admin', newUsername: 'pwned' })).status, 403, "someone else's needs users.admin");
  assert.is((await signedIn(cp, 'jo3', 'jo-password-2')).access.length > 0, true);

  assert.is((await api.call('DELETE', `/user/${jo.id.value}`)).status, 200);
  assert.is((await api.call('GET', `/user/${jo.id.value}`)).status, 404);
  assert.is((await cp.fetch(cp.url + `/user/pfp/${jo.id.value}`, { headers: { authorization: `Bearer ${api.access}` } })).status, 404, 'the picture went with the user');
  assert.is((await new JsApiLike(cp.url, cp.fetch).call('GET', `/user/${adminId}`)).status, 403, 'no token');
});

t('--encedeus-prefix moves the API; everything under the prefix answers JSON', async () => {
  const cp = await memoryControlPlane({ args: ['--encedeus-prefix', '/encedeus'] });
  try {
    const api = new JsApiLike(cp.url + '/encedeus', cp.fetch);
    const r = await api.call('POST', '/auth/signin', { uid: 'admin', password: ADMIN_PASSWORD });
    assert.is(r.status, 201);
    assert.match(r.res.headers.getSetCookie().join(), /Path=\/encedeus/);
    api.access = r.data.accessToken;
    assert.is((await api.call('GET', '/auth/refresh')).status, 200);
    const other = await cp.fetch(cp.url + '/encedeus/anything', { headers: { accept: 'text/html' } });
    assert.is(other.status, 404);
    assert.match(other.headers.get('content-type') ?? '', /json/);
    assert.is((await cp.fetch(cp.url + '/auth/signin', { method: 'POST' })).status, 404, 'not at the root any more');
  } finally {
    await cp.close();
  }
});

t('--encedeus-prefix: /, off or a path; never under /api, /kvm, /mqtt, /assets', () => {
  assert.is(loadServeConfig([], {}).encedeusPrefix, '');
  assert.is(loadServeConfig(['--encedeus-prefix', 'off'], {}).encedeusPrefix, false);
  assert.is(loadServeConfig([], { EDGEHOOK_ENCEDEUS_PREFIX: '/e/v1' }).encedeusPrefix, '/e/v1');
  for (const bad of ['/api/encedeus', '/kvm', 'encedeus', '/a/../b', '/x y', '/e/']) {
    assert.throws(() => loadServeConfig(['--encedeus-prefix', bad], {}), (e: unknown) => e instanceof ConfigError && /encedeus-prefix/.test(e.message), bad);
  }
});

t.run();
