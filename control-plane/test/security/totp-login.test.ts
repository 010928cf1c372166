// Finding 4 of issue 13: TOTP two-factor as PiKVM offers it. Enroll, verify, log in with the code
// (JSON `totp`, or appended to the password on Basic, X-KVMD-* and the PiKVM facade), recovery codes
// once each, a clear 401 naming the missing factor, required-by-role, and the CLI asking for it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, apiClient, cleanup, jsonOf, runCli, startTestControlPlane, tempDir, type Api, type TestControlPlane } from '../helpers/harness.js';
import { base32Decode, totp } from '../../src/auth/totp.js';

interface Ctx {
  cp: TestControlPlane;
  api: Api;
}
let offsetMs = 0;
const clock = { now: () => Date.now() + offsetMs, monotonic: () => performance.now() };
/** A code for a step no earlier code used (codes are single-use). */
const freshCode = (secret: string): string => {
  offsetMs += 30_000;
  return totp(base32Decode(secret), clock.now());
};

const t = suite<Ctx>('TOTP two-factor');
t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane({ clock, args: ['--access-ttl', '86400'] });
  ctx.api = await adminApi(ctx.cp);
});
t.after(async (ctx) => {
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

const login = (base: string, body: Record<string, string>) => fetch(base + '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function enrolledUser(ctx: Ctx, username: string, roleName = 'viewer'): Promise<{ password: string; secret: string; recovery: string[]; api: Api; id: string }> {
  const password = `${username}-password-1`;
  const created = await ctx.api.request('POST', '/api/users', { username, password, roleName });
  assert.is(created.status, 201, JSON.stringify(created.body));
  const tokens = await jsonOf(await login(ctx.cp.url, { username, password }));
  const api = apiClient(ctx.cp.url, tokens.accessToken);
  const enroll = await api.request('POST', '/api/auth/totp/enroll');
  assert.is(enroll.status, 200, JSON.stringify(enroll.body));
  assert.match(enroll.body.uri, new RegExp(`^otpauth://totp/Edgehook:${username}\\?secret=${enroll.body.secret}`));
  assert.is((await api.request('POST', '/api/auth/totp/verify', { code: '000000' })).status, 400, 'a wrong first code does not turn it on');
  const verify = await api.request('POST', '/api/auth/totp/verify', { code: freshCode(enroll.body.secret) });
  assert.is(verify.status, 200, JSON.stringify(verify.body));
  assert.is(verify.body.recoveryCodes.length, 10);
  return { password, secret: enroll.body.secret, recovery: verify.body.recoveryCodes, api, id: created.body.id };
}

t('login without the code: 401 TOTP_REQUIRED naming the factor; with it: 200; a used code is refused', async (ctx) => {
  const u = await enrolledUser(ctx, 'tina');
  const missing = await login(ctx.cp.url, { username: 'tina', password: u.password });
  assert.is(missing.status, 401);
  const body = await jsonOf(missing);
  assert.is(body.error.code, 'TOTP_REQUIRED');
  assert.match(body.error.message, /two-factor.*"totp"/);
  assert.is((await login(ctx.cp.url, { username: 'tina', password: 'wrong-password', totp: '123456' })).status, 403, 'a wrong password is a plain 403, the factor is not revealed');
  const code = freshCode(u.secret);
  assert.is((await login(ctx.cp.url, { username: 'tina', password: u.password, totp: code })).status, 200);
  assert.is((await login(ctx.cp.url, { username: 'tina', password: u.password, totp: code })).status, 403, 'a code works once');
  const view = await u.api.request('GET', `/api/users/${u.id}`);
  assert.equal(view.body.totp, { enabled: true, requiredByRole: false, recoveryCodesLeft: 10 });
});

t('recovery codes work once each', async (ctx) => {
  const u = await enrolledUser(ctx, 'rick');
  const code = u.recovery[0]!;
  assert.is((await login(ctx.cp.url, { username: 'rick', password: u.password, totp: code })).status, 200);
  assert.is((await login(ctx.cp.url, { username: 'rick', password: u.password, totp: code })).status, 403);
  assert.is((await u.api.request('GET', `/api/users/${u.id}`)).body.totp.recoveryCodesLeft, 9);
});

t('PiKVM style: the code appended to the password on Basic, X-KVMD-* and the facade login', async (ctx) => {
  const u = await enrolledUser(ctx, 'kim');
  const check = (headers: Record<string, string>) => fetch(ctx.cp.url + '/api/auth/check', { headers });
  const noCode = await check({ 'x-kvmd-user': 'kim', 'x-kvmd-passwd': u.password });
  assert.is(noCode.status, 401);
  assert.match((await jsonOf(noCode)).error.message, /append the 6-digit code/);
  assert.is((await check({ 'x-kvmd-user': 'kim', 'x-kvmd-passwd': u.password + freshCode(u.secret) })).status, 200);
  assert.is((await check({ authorization: 'Basic ' + Buffer.from(`kim:${u.password}${freshCode(u.secret)}`).toString('base64') })).status, 200);
  const form = await fetch(ctx.cp.url + '/kvm/nodev/api/auth/login', { method: 'POST', body: new URLSearchParams({ user: 'kim', passwd: u.password + freshCode(u.secret) }) });
  // The facade answers for devices only; an unknown device is a 404 before any password check.
  assert.is(form.status, 404);
  const formLogin = await fetch(ctx.cp.url + '/api/auth/login', { method: 'POST', body: new URLSearchParams({ user: 'kim', passwd: u.password + freshCode(u.secret) }) });
  assert.is(formLogin.status, 200);
});

t('turning it off needs a code or the password; an admin can reset it', async (ctx) => {
  const u = await enrolledUser(ctx, 'otto');
  assert.is((await u.api.request('DELETE', '/api/auth/totp', { code: '000000' })).status, 403);
  assert.is((await u.api.request('DELETE', '/api/auth/totp', { code: freshCode(u.secret) })).status, 200);
  assert.is((await login(ctx.cp.url, { username: 'otto', password: u.password })).status, 200, 'no factor any more');
  const again = await enrolledUser(ctx, 'olga');
  assert.is((await ctx.api.request('DELETE', `/api/users/${again.id}/totp`)).status, 200);
  assert.is((await login(ctx.cp.url, { username: 'olga', password: again.password })).status, 200);
});

t('required by role: until enrolled, login works but no permission applies; enrolling lifts it', async (ctx) => {
  const role = await ctx.api.request('POST', '/api/roles', { name: 'strict', permissions: ['devices.read'], requireTotp: true });
  assert.is(role.status, 201, JSON.stringify(role.body));
  assert.is(role.body.requireTotp, true);
  const password = 'strict-user-password';
  assert.is((await ctx.api.request('POST', '/api/users', { username: 'sam', password, roleName: 'strict' })).status, 201);
  const res = await login(ctx.cp.url, { username: 'sam', password });
  assert.is(res.status, 200);
  const tokens = await jsonOf(res);
  assert.is(tokens.totpEnrollmentRequired, true);
  const sam = apiClient(ctx.cp.url, tokens.accessToken);
  const refused = await sam.request('GET', '/api/devices');
  assert.is(refused.status, 403);
  assert.match(refused.body.error.message, /requires two-factor/);
  const enroll = await sam.request('POST', '/api/auth/totp/enroll');
  assert.is((await sam.request('POST', '/api/auth/totp/verify', { code: freshCode(enroll.body.secret) })).status, 200);
  assert.is((await sam.request('GET', '/api/devices')).status, 200, 'the same session now has its role');
});

t('the CLI asks for the code: TOTP_REQUIRED without it, logged in with --totp or EDGEHOOK_TOTP', async (ctx) => {
  const u = await enrolledUser(ctx, 'cleo');
  const config = await tempDir('edgehook-cli-');
  const env = { EDGEHOOK_PASSWORD: u.password };
  const without = await runCli(config, ['login', '--server', ctx.cp.url, '--username', 'cleo'], env);
  assert.is.not(without.code, 0);
  assert.match(without.stderr, /two-factor/);
  const withFlag = await runCli(config, ['login', '--server', ctx.cp.url, '--username', 'cleo', '--totp', freshCode(u.secret)], env);
  assert.is(withFlag.code, 0, withFlag.stderr);
  const withEnv = await runCli(config, ['login', '--server', ctx.cp.url, '--username', 'cleo'], { ...env, EDGEHOOK_TOTP: freshCode(u.secret) });
  assert.is(withEnv.code, 0, withEnv.stderr);
  await cleanup(config);
});

t('edgehook totp enroll, verify and disable', async (ctx) => {
  const password = 'cli-enroller-password';
  assert.is((await ctx.api.request('POST', '/api/users', { username: 'cora', password, roleName: 'viewer' })).status, 201);
  const config = await tempDir('edgehook-cli-');
  assert.is((await runCli(config, ['login', '--server', ctx.cp.url, '--username', 'cora'], { EDGEHOOK_PASSWORD: password })).code, 0);
  const enroll = await runCli(config, ['totp', 'enroll']);
  assert.is(enroll.code, 0, enroll.stderr);
  const secret = /key: ([A-Z2-7]+)/.exec(enroll.stdout)?.[1] ?? '';
  assert.match(enroll.stdout, /uri: otpauth:\/\/totp\//);
  const verify = await runCli(config, ['totp', 'verify', freshCode(secret)]);
  assert.is(verify.code, 0, verify.stderr);
  assert.is(verify.stdout.trim().split('\n').filter((l) => /^[a-z2-9]{4}-[a-z2-9]{4}$/.test(l)).length, 10);
  assert.is((await login(ctx.cp.url, { username: 'cora', password })).status, 401, 'now the code is required');
  const disable = await runCli(config, ['totp', 'disable', freshCode(secret)]);
  assert.is(disable.code, 0, disable.stderr);
  assert.is((await login(ctx.cp.url, { username: 'cora', password })).status, 200);
  assert.is((await runCli(config, ['totp', 'bogus'])).code, 2);
  await cleanup(config);
});

t.run();
