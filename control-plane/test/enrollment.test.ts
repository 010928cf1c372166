import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createEnrollmentToken, enrolledAgent, spawnAgent, tempDir, waitFor, withControlPlane, type SuiteContext, enrollRaw, SAMPLE_DESCRIPTION, cleanup, jsonOf } from './helpers/harness.js';

const t = suite<SuiteContext>('enrollment');
const description = SAMPLE_DESCRIPTION;
const enroll = enrollRaw;

withControlPlane(t);

t('a token enrolls up to maxUses devices, then is refused; tags carry over', async ({ cp, api }) => {
  const token = await createEnrollmentToken(api, { maxUses: 2, tags: ['lab', 'site=berlin'] });
  const a = await enroll(cp, token);
  assert.is(a.status, 201);
  const body = await jsonOf(a);
  assert.type(body.deviceId, 'string');
  assert.is(body.mqtt.username, body.deviceId);
  assert.match(body.mqtt.url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
  assert.match(body.mqtt.wsUrl, /^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/);
  assert.is((await enroll(cp, token)).status, 201);
  const third = await enroll(cp, token);
  assert.is(third.status, 403);
  assert.is((await jsonOf(third)).error.code, 'ENROLLMENT_TOKEN_INVALID');
  const device = await api.request('GET', `/api/devices/${body.deviceId}`);
  assert.equal(device.body.tags, ['lab', 'site=berlin']);
  assert.is(device.body.name, 'pi-a');
  assert.is(device.body.online, false);
  const list = await api.request('GET', '/api/enrollment-tokens');
  assert.ok(list.body.some((x: { uses: number; maxUses: number }) => x.uses === 2 && x.maxUses === 2));
  assert.not.ok(JSON.stringify(list.body).includes(token), 'the secret is never listed');
});

t('second device with the same hostname gets a distinct name', async ({ cp, api }) => {
  const token = await createEnrollmentToken(api, { maxUses: 2 });
  const a = await jsonOf(await enroll(cp, token, { ...description, hostname: 'twin' }));
  const b = await jsonOf(await enroll(cp, token, { ...description, hostname: 'twin' }));
  assert.is(a.name, 'twin');
  assert.is(b.name, 'twin-2');
});

t('GET /api/devices pages in name order with after and limit; without limit it is the whole list', async ({ cp, api }) => {
  const token = await createEnrollmentToken(api, { maxUses: 5, tags: ['paged'] });
  for (const h of ['pg-c', 'pg-a', 'pg-e', 'pg-b', 'pg-d']) assert.is((await enroll(cp, token, { ...description, hostname: h })).status, 201);
  const whole = await api.request('GET', '/api/devices');
  const names = whole.body.map((d: { name: string }) => d.name);
  assert.equal(names, [...names].sort((a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)), 'the whole list is in name order');
  const paged: string[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const res = await api.request('GET', `/api/devices?limit=2${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`);
    assert.is(res.status, 200);
    assert.ok(res.body.length <= 2);
    paged.push(...res.body.map((d: { name: string }) => d.name));
    if (res.body.length < 2) break;
    after = res.body.at(-1).name;
  }
  assert.equal(paged, names, 'the pages together are the whole list, each device once');
  // With a tag filter the page holds matching devices only, still `limit` of them.
  const tagged = await api.request('GET', '/api/devices?tag=paged&limit=2&after=pg-a');
  assert.equal(tagged.body.map((d: { name: string }) => d.name), ['pg-b', 'pg-c']);
  for (const bad of ['limit=0', 'limit=10001', 'limit=two', 'after=']) assert.is((await api.request('GET', `/api/devices?${bad}`)).status, 400, bad);
});

t('expired, revoked, unknown and missing tokens are refused; bad descriptions get 400', async ({ cp, api }) => {
  const expired = await createEnrollmentToken(api, { expiresIn: 1 });
  await new Promise((r) => setTimeout(r, 1100));
  assert.is((await enroll(cp, expired)).status, 403);
  const revokedRes = await api.request('POST', '/api/enrollment-tokens', {});
  assert.is((await api.request('DELETE', `/api/enrollment-tokens/${revokedRes.body.id}`)).status, 204);
  assert.is((await enroll(cp, revokedRes.body.token)).status, 403);
  assert.is((await enroll(cp, 'ehe_unknown')).status, 403);
  const none = await fetch(cp.url + '/api/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(description) });
  assert.is(none.status, 401);
  const good = await createEnrollmentToken(api);
  const bad = await enroll(cp, good, { hostname: '', profile: 'Not Valid' });
  assert.is(bad.status, 400);
  assert.match((await jsonOf(bad)).error.message, /profile|hostname|hardware/);
  // The refused request did not burn the single use.
  assert.is((await enroll(cp, good)).status, 201);
  assert.is((await api.request('POST', '/api/enrollment-tokens', { maxUses: 0 })).status, 400);
  assert.is((await api.request('POST', '/api/enrollment-tokens', { tags: ['bad tag!'] })).status, 400);
});

t('a real agent enrolls once, keeps 0600 credentials, and reuses them without a token', async ({ cp, api }) => {
  const agent = await enrolledAgent(cp, api, { hostname: 'keeper' });
  const mode = (await stat(join(agent.stateDir, 'credentials.json'))).mode & 0o777;
  assert.is(mode, 0o600);
  const device = await api.request('GET', `/api/devices/${agent.deviceId}`);
  assert.is(device.body.profile, 'simulated');
  assert.is(device.body.agentVersion, '0.1.0');
  assert.ok(device.body.hardware.cpus > 0);
  assert.type(device.body.system.kernel, 'string');
  assert.is(await agent.stop(), 0);
  await waitFor('offline after SIGTERM', async () => (await api.request('GET', `/api/devices/${agent.deviceId}`)).body.online === false);
  // No server, no token: it must reconnect from the saved credentials alone.
  const again = spawnAgent({ stateDir: agent.stateDir });
  await waitFor('online again from saved credentials', async () => (await api.request('GET', `/api/devices/${agent.deviceId}`)).body.online === true, 15_000);
  const devices = await api.request('GET', '/api/devices');
  assert.is(devices.body.filter((d: { name: string }) => d.name.startsWith('keeper')).length, 1, 'no second enrollment');
  await again.stop();
  await cleanup(agent.stateDir);
});

t('an agent without credentials or token exits with a clear message; bad flags exit 2', async () => {
  const dir = await tempDir();
  const lonely = spawnAgent({ stateDir: dir });
  assert.is(await lonely.exited, 1);
  assert.match(lonely.output(), /not enrolled yet.*--enroll/);
  const bad = spawnAgent({ stateDir: dir, extraArgs: ['--frobnicate'] });
  assert.is(await bad.exited, 2);
  const badUrl = spawnAgent({ stateDir: dir, server: 'ftp://x', token: 'ehe_xxxxxxxxxxxxxxxx' });
  assert.is(await badUrl.exited, 2);
  assert.match(badUrl.output(), /--server/);
  const badProfile = spawnAgent({ stateDir: dir, profile: 'no-such-board', server: 'http://127.0.0.1:1', token: 'ehe_xxxxxxxxxxxxxxxx' });
  // A bad --profile is a bad flag too: exit 2, naming the valid ids.
  assert.is(await badProfile.exited, 2);
  assert.match(badProfile.output(), /no-such-board/);
  assert.match(badProfile.output(), /known profiles: .*generic-linux/);
  await cleanup(dir);
});

t('an agent with a bad token reports the refusal and exits', async ({ cp }) => {
  const dir = await tempDir();
  const agent = spawnAgent({ server: cp.url, token: 'ehe_not_a_real_token', stateDir: dir });
  assert.is(await agent.exited, 1);
  assert.match(agent.output(), /enrollment refused \(403\)/);
  await cleanup(dir);
});

t.run();
