import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, jsonOf, login, startTestControlPlane, type Api, type TestControlPlane } from '../helpers/harness.js';
import { jpeg, png, webp } from '../encedeus/images.js';
import { rawRequest } from '../encedeus/http.js';

const t = suite<{ cp: TestControlPlane; admin: Api }>('profile pictures over /api/users/:id/avatar');
t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.admin = await adminApi(ctx.cp);
});
t.after(async (ctx) => {
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

const put = (cp: TestControlPlane, token: string, id: string, body: Uint8Array | FormData, type = 'application/octet-stream') =>
  fetch(cp.url + `/api/users/${id}/avatar`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, ...(body instanceof FormData ? {} : { 'content-type': type }) }, body });

t('raw or multipart upload; the type comes from the bytes, not the header; ETag and 304; users delete their own', async ({ cp, admin }) => {
  const me = (await admin.request('GET', '/api/auth/check')).body.user.id;
  // Claimed as PNG, really a JPEG: stored and served as what it is.
  const up = await put(cp, admin.token, me, new Uint8Array(jpeg(64, 48)), 'image/png');
  assert.is(up.status, 200);
  assert.is((await jsonOf(up)).mime, 'image/jpeg');
  const got = await fetch(cp.url + `/api/users/${me}/avatar`, { headers: { authorization: `Bearer ${admin.token}` } });
  assert.is(got.headers.get('content-type'), 'image/jpeg');
  assert.match(got.headers.get('cache-control') ?? '', /private, max-age=\d+/);
  assert.is(got.headers.get('x-content-type-options'), 'nosniff');
  const etag = got.headers.get('etag')!;
  assert.ok(etag.startsWith('"'));
  assert.is((await fetch(cp.url + `/api/users/${me}/avatar`, { headers: { authorization: `Bearer ${admin.token}`, 'if-none-match': etag } })).status, 304);

  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(webp(10, 10))]), 'x.webp');
  assert.is((await put(cp, admin.token, me, form)).status, 200);
  const again = await fetch(cp.url + `/api/users/${me}/avatar`, { headers: { authorization: `Bearer ${admin.token}`, 'if-none-match': etag } });
  assert.is(again.status, 200, 'a new picture, a new ETag');
  assert.is(again.headers.get('content-type'), 'image/webp');
  assert.is((await fetch(cp.url + `/api/users/${me}/avatar`)).status, 401, 'behind a login');
  assert.is((await admin.request('DELETE', `/api/users/${me}/avatar`)).status, 204);
  assert.is((await admin.request('GET', `/api/users/${me}/avatar`)).status, 404);
});

t('refusals: not an image, over 1 MB (before buffering), someone else without users.admin', async ({ cp, admin }) => {
  const me = (await admin.request('GET', '/api/auth/check')).body.user.id;
  const html = await put(cp, admin.token, me, new TextEncoder().encode('<script>alert(1)</script>'), 'image/png');
  assert.is(html.status, 400);
  assert.match((await jsonOf(html)).error.message, /not a PNG, JPEG or WebP/);
  // Its own connection: the server answers before reading the body, then drops what it did not read.
  const big = await rawRequest(cp.url + `/api/users/${me}/avatar`, 'PUT', { authorization: `Bearer ${admin.token}`, 'content-type': 'application/octet-stream', connection: 'close' }, Buffer.concat([png(1, 1), Buffer.alloc(1_200_000)]).toString('latin1'));
  // The request body bound (1 MiB, 413) answers before the picture's own 1 MB check reads it.
  assert.is(big.status, 413);
  assert.match(JSON.parse(big.text).error.message, /larger than/);
  const created = await admin.request('POST', '/api/users', { username: 'vic', password: 'vic-password-1', roleName: 'viewer' });
  const vic = (await login(cp.url, 'vic', 'vic-password-1')).accessToken;
  assert.is((await put(cp, vic, me, new Uint8Array(png(2, 2)))).status, 403);
  assert.is((await put(cp, vic, created.body.id, new Uint8Array(png(2, 2)))).status, 200, 'their own is fine');
  assert.is((await admin.request('DELETE', `/api/users/${created.body.id}`)).status, 204);
  assert.is((await admin.request('GET', `/api/users/${created.body.id}/avatar`)).status, 404, 'deleting the user deleted the picture');
});

t.run();
