import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, enrolledAgent, waitFor } from '../helpers/harness.js';
import { havePromtool, promtoolCheck } from '../helpers/promtool.js';
import { basic, curl, KVMD_ADMIN, userWith, withSimulatedBoard, type KvmContext } from './kvm-helpers.js';

const t = suite<KvmContext>('PiKVM API facade (simulated board, real agent)');

withSimulatedBoard(t);

t('auth: X-KVMD headers, Basic, login cookie; none -> 401, wrong -> 403, all in the envelope', async ({ kvm }) => {
  // curl -k -H X-KVMD-User:admin -H X-KVMD-Passwd:admin https://<pikvm-ip>/api/auth/check
  const check = await curl(`${kvm}/auth/check`, { headers: KVMD_ADMIN });
  assert.is(check.status, 200);
  assert.equal(check.body, { ok: true, result: {} });
  // curl -k -u admin:admin https://<pikvm-ip>/api/auth/check
  assert.is((await curl(`${kvm}/auth/check`, { headers: basic('admin', ADMIN_PASSWORD) })).status, 200);
  const none = await curl(`${kvm}/auth/check`);
  assert.is(none.status, 401);
  assert.is(none.body.ok, false);
  assert.is(none.body.result.error, 'UnauthorizedError');
  assert.is(none.headers.get('www-authenticate'), null, 'no Basic challenge, as kvmd');
  const wrong = await curl(`${kvm}/auth/check`, { headers: basic('admin', 'nope') });
  assert.is(wrong.status, 403);
  assert.is(wrong.body.result.error, 'ForbiddenError');
  // curl -k -v -X POST --data user=admin --data passwd=admin https://pikvm/api/auth/login
  const login = await curl(`${kvm}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user=admin&passwd=${ADMIN_PASSWORD}` });
  assert.is(login.status, 200);
  const cookie = /auth_token=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(cookie, 'auth_token cookie set');
  assert.is((await curl(`${kvm}/auth/check`, { headers: { cookie: `auth_token=${cookie}` } })).status, 200);
  assert.is((await curl(`${kvm}/auth/logout`, { method: 'POST', headers: { cookie: `auth_token=${cookie}` } })).status, 200);
  assert.is((await curl(`${kvm}/auth/check`, { headers: { cookie: `auth_token=${cookie}` } })).status, 403, 'token revoked by logout');
  const badLogin = await curl(`${kvm}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=admin&passwd=wrong' });
  assert.is(badLogin.status, 403);
});

t('unknown device and unknown API path: 404 in the envelope', async ({ cp }) => {
  const r = await curl(`${cp.url}/kvm/no-such-device/api/atx`, { headers: KVMD_ADMIN });
  assert.is(r.status, 404);
  assert.equal(r.body.ok, false);
  assert.is(r.body.result.error, 'NotFoundError');
  const p = await curl(`${cp.url}/kvm/no-such-device/api/streamer`, { headers: KVMD_ADMIN });
  assert.is(p.status, 404);
  assert.is(p.body.result.error, 'NotFoundError');
});

t('a known path with the wrong method: 405 with aiohttp\'s own body and Allow, as kvmd answers', async ({ kvm }) => {
  // kvmd registers each route for one method; aiohttp refuses the others before auth runs.
  for (const [method, path, allow] of [
    ['GET', '/atx/power', 'POST'],
    ['GET', '/gpio/switch', 'POST'],
    ['GET', '/hid/print', 'POST'],
    ['GET', '/auth/login', 'POST'],
    ['POST', '/info', 'GET'],
    ['DELETE', '/atx', 'GET'],
  ] as const) {
    const r = await curl(`${kvm}${path}`, { method });
    assert.is(r.status, 405, `${method} ${path}`);
    assert.is(r.text, '405: Method Not Allowed');
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    assert.is(r.headers.get('allow'), allow, `${method} ${path}`);
  }
  // An unknown path stays a 404.
  assert.is((await curl(`${kvm}/no/such/thing`, { headers: KVMD_ADMIN })).status, 404);
});

t('gpio: state, switch with query params on POST, pulse with wait', async ({ kvm, agent }) => {
  const g = await curl(`${kvm}/gpio`, { headers: KVMD_ADMIN });
  assert.is(g.status, 200);
  assert.equal(g.body.result.state.outputs.relay, { online: true, state: false, busy: false });
  assert.equal(g.body.result.model.scheme.outputs.doorbell.pulse, { delay: 0.5, min_delay: 0.1, max_delay: 2 });
  const sw = await curl(`${kvm}/gpio/switch?channel=relay&state=1`, { method: 'POST', headers: KVMD_ADMIN });
  assert.equal(sw.body, { ok: true, result: {} });
  assert.is((await curl(`${kvm}/gpio`, { headers: KVMD_ADMIN })).body.result.state.outputs.relay.state, true);
  await curl(`${kvm}/gpio/switch?channel=relay&state=false`, { method: 'POST', headers: KVMD_ADMIN });
  // By device name as well as id.
  const byName = (await curl(`${kvm.replace(agent.deviceId, 'nope')}/gpio`, { headers: KVMD_ADMIN })).status;
  assert.is(byName, 404);

  const started = Date.now();
  const pulse = await curl(`${kvm}/gpio/pulse?channel=doorbell&delay=0.2&wait=1`, { method: 'POST', headers: KVMD_ADMIN });
  assert.is(pulse.status, 200);
  assert.ok(Date.now() - started >= 200, 'wait=1 returns after the pulse');
  assert.is((await curl(`${kvm}/gpio`, { headers: KVMD_ADMIN })).body.result.state.outputs.doorbell.busy, false);
});

t('gpio: busy channel 409; bad channel, pulse-only switch, delay bounds and malformed values 400', async ({ kvm }) => {
  const first = await curl(`${kvm}/gpio/pulse?channel=doorbell&delay=1`, { method: 'POST', headers: KVMD_ADMIN });
  assert.is(first.status, 200, 'wait=0 answers at once');
  const busy = await curl(`${kvm}/gpio/pulse?channel=doorbell`, { method: 'POST', headers: KVMD_ADMIN });
  assert.is(busy.status, 409);
  assert.is(busy.body.result.error, 'GpioChannelIsBusyError');
  await waitFor('pulse end', async () => (await curl(`${kvm}/gpio`, { headers: KVMD_ADMIN })).body.result.state.outputs.doorbell.busy === false, 3000);

  const cases: [string, string][] = [
    ['gpio/switch?channel=nope&state=1', 'GpioChannelNotFoundError'],
    ['gpio/switch?channel=doorbell&state=1', 'GpioSwitchNotSupported'],
    ['gpio/switch?channel=door&state=1', 'GpioSwitchNotSupported'],
    ['gpio/pulse?channel=doorbell&delay=5', 'GpioPulseDelayError'],
    ['gpio/pulse?channel=doorbell&delay=0.01', 'GpioPulseDelayError'],
    ['gpio/pulse?channel=doorbell&delay=abc', 'ValidatorError'],
    ['gpio/pulse?channel=doorbell&delay=-1', 'ValidatorError'],
    ['gpio/switch?channel=relay&state=maybe', 'ValidatorError'],
    ['gpio/switch?channel=relay', 'ValidatorError'],
    ['gpio/switch?channel=../etc&state=1', 'ValidatorError'],
  ];
  for (const [path, error] of cases) {
    const r = await curl(`${kvm}/${path}`, { method: 'POST', headers: KVMD_ADMIN });
    assert.is(r.status, 400, path);
    assert.is(r.body.ok, false, path);
    assert.is(r.body.result.error, error, path);
    assert.type(r.body.result.error_msg, 'string');
  }
});

t('atx: click power turns the simulated PC on, power=on is then a no-op, off_hard forces off; busy 409', async ({ kvm }) => {
  const s0 = await curl(`${kvm}/atx`, { headers: basic('admin', ADMIN_PASSWORD) });
  assert.equal(s0.body.result, { enabled: true, busy: false, acts: { power: false, reset: false }, leds: { power: false, hdd: false } });
  // curl -X POST -k -u admin:admin https://<pikvm-ip>/api/atx/click?button=power
  const click = await curl(`${kvm}/atx/click?button=power&wait=1`, { method: 'POST', headers: basic('admin', ADMIN_PASSWORD) });
  assert.equal(click.body, { ok: true, result: {} });
  assert.is((await curl(`${kvm}/atx`, { headers: KVMD_ADMIN })).body.result.leds.power, true);
  assert.is((await curl(`${kvm}/atx/power?action=on&wait=1`, { method: 'POST', headers: KVMD_ADMIN })).status, 200);
  assert.is((await curl(`${kvm}/atx`, { headers: KVMD_ADMIN })).body.result.leds.power, true);

  const hard = await curl(`${kvm}/atx/power?action=off_hard`, { method: 'POST', headers: KVMD_ADMIN });
  assert.is(hard.status, 200);
  const busy = await curl(`${kvm}/atx/click?button=reset`, { method: 'POST', headers: KVMD_ADMIN });
  assert.is(busy.status, 409);
  assert.is(busy.body.result.error, 'AtxIsBusyError');
  await waitFor('forced off and idle', async () => {
    const r = (await curl(`${kvm}/atx`, { headers: KVMD_ADMIN })).body.result;
    return !r.busy && !r.leds.power;
  }, 5000);
  const bad = await curl(`${kvm}/atx/power?action=explode`, { method: 'POST', headers: KVMD_ADMIN });
  assert.is(bad.status, 400);
  assert.is(bad.body.result.error, 'ValidatorError');
});

t('hid: send_key and print reach the simulated gadget as boot reports; unknown key 400', async ({ kvm, api, agent }) => {
  await api.request('GET', `/api/devices/${agent.deviceId}/hardware/hid/reports?clear=true`);
  assert.is((await curl(`${kvm}/hid/events/send_key?key=ShiftLeft&state=true`, { method: 'POST', headers: KVMD_ADMIN })).status, 200);
  assert.is((await curl(`${kvm}/hid/events/send_key?key=KeyA`, { method: 'POST', headers: KVMD_ADMIN })).status, 200);
  assert.is((await curl(`${kvm}/hid/events/send_key?key=ShiftLeft&state=0`, { method: 'POST', headers: KVMD_ADMIN })).status, 200);
  const print = await curl(`${kvm}/hid/print`, { method: 'POST', headers: { ...KVMD_ADMIN, 'content-type': 'text/plain' }, body: 'ok' });
  assert.is(print.status, 200);
  const reports = (await api.request('GET', `/api/devices/${agent.deviceId}/hardware/hid/reports`)).body.reports;
  assert.equal(reports, [
    '0200000000000000', '0200040000000000', '0200000000000000', '0000000000000000',
    '0000120000000000', '0000000000000000', '00000e0000000000', '0000000000000000',
  ]);
  const bad = await curl(`${kvm}/hid/events/send_key?key=NoSuchKey`, { method: 'POST', headers: KVMD_ADMIN });
  assert.is(bad.status, 400);
  assert.is(bad.body.result.error, 'ValidatorError');
  assert.match(bad.body.result.error_msg, /unknown key/);
  const hid = await curl(`${kvm}/hid`, { headers: KVMD_ADMIN });
  assert.is(hid.body.result.online, true);
});

t('info with fields, log with seek, prometheus metrics', async ({ kvm }) => {
  const info = await curl(`${kvm}/info`, { headers: basic('admin', ADMIN_PASSWORD) });
  assert.equal(Object.keys(info.body.result).sort(), ['extras', 'hw', 'meta', 'system']);
  assert.is(info.body.result.hw.platform.type, 'simulated');
  assert.type(info.body.result.system.kernel.release, 'string');
  // kvmd's own release numbering ("4.197"), which clients parse; Edgehook's version beside it.
  assert.match(info.body.result.system.kvmd.version, /^4\.\d+$/);
  // Compared as (major, minor) like kvmd's own numbering: at least 4.36, the event-socket change.
  assert.ok(Number(info.body.result.system.kvmd.version.split('.')[1]) >= 36);
  assert.match(info.body.result.system.edgehook.agent, /^\d+\.\d+\.\d+$/);
  const some = await curl(`${kvm}/info?fields=system,hw`, { headers: KVMD_ADMIN });
  assert.equal(Object.keys(some.body.result).sort(), ['hw', 'system']);
  assert.is((await curl(`${kvm}/info?fields=bogus`, { headers: KVMD_ADMIN })).status, 400);

  const log = await curl(`${kvm}/log?seek=3600`, { headers: KVMD_ADMIN });
  assert.is(log.status, 200);
  assert.match(log.text, /hardware ready/);
  assert.is((await curl(`${kvm}/log?seek=-5`, { headers: KVMD_ADMIN })).status, 400);

  const metrics = await curl(`${kvm}/export/prometheus/metrics`, { headers: basic('admin', ADMIN_PASSWORD) });
  assert.is(metrics.status, 200);
  assert.match(metrics.text, /# TYPE pikvm_atx_enabled gauge\npikvm_atx_enabled 1/);
  if (havePromtool()) {
    const checked = await promtoolCheck(metrics.text);
    assert.is(checked.code, 0, `promtool check metrics: ${checked.output}\n${metrics.text}`);
  }
  assert.match(metrics.text, /pikvm_gpio_output_state_relay 0/);
  assert.match(metrics.text, /pikvm_hw_temp_soc \d/);
});

t('log follow streams new lines as the agent logs them', async ({ kvm }) => {
  const controller = new AbortController();
  const res = await fetch(`${kvm}/log?follow=1`, { headers: KVMD_ADMIN, signal: controller.signal });
  assert.is(res.status, 200);
  const reader = res.body?.getReader();
  if (!reader) throw new Error('no body');
  let text = '';
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += Buffer.from(value).toString('utf8');
    }
  })().catch(() => undefined);
  await waitFor('the first chunk (lines already logged)', () => /hardware ready/.test(text), 3000);
  assert.not.match(text, /gpio switch.*"channel":"fan"/);
  // The agent logs every operation that moves something; the new line must arrive on the open stream.
  await curl(`${kvm}/gpio/switch?channel=fan&state=1`, { method: 'POST', headers: KVMD_ADMIN });
  await waitFor('the new line on the followed log', () => /gpio switch.*"channel":"fan","state":true/.test(text), 3000);
  controller.abort();
  await reading;
});

t('permissions: a user without devices.power can read and switch GPIO but not click ATX', async ({ kvm, api }) => {
  const { user, pass } = await userWith(api, 'operator', ['devices.read', 'devices.hardware.read', 'devices.hardware.write']);
  const h = { 'x-kvmd-user': user, 'x-kvmd-passwd': pass };
  assert.is((await curl(`${kvm}/atx`, { headers: h })).status, 200);
  assert.is((await curl(`${kvm}/gpio/switch?channel=relay&state=0`, { method: 'POST', headers: h })).status, 200);
  const denied = await curl(`${kvm}/atx/click?button=power`, { method: 'POST', headers: h });
  assert.is(denied.status, 403);
  assert.is(denied.body.result.error, 'ForbiddenError');
  assert.match(denied.body.result.error_msg, /devices.power/);
  const viewer = await userWith(api, 'viewer', ['devices.read']);
  assert.is((await curl(`${kvm}/gpio`, { headers: basic(viewer.user, viewer.pass) })).status, 403);
});

t('a real board profile on a machine without its hardware: channels offline, clear errors, no crash', async ({ cp, api }) => {
  const pikvm = await enrolledAgent(cp, api, { profile: 'pikvm-v3' });
  const kvm = `${cp.url}/kvm/${pikvm.deviceId}/api`;
  const gpio = await curl(`${kvm}/gpio`, { headers: KVMD_ADMIN });
  assert.is(gpio.status, 200);
  assert.is(gpio.body.result.state.outputs['atx-power'].online, false);
  const click = await curl(`${kvm}/atx/click?button=power`, { method: 'POST', headers: KVMD_ADMIN });
  assert.is(click.body.result.error, 'GpioDriverOfflineError');
  assert.match(click.body.result.error_msg, /offline/);
  assert.is((await curl(`${kvm}/hid`, { headers: KVMD_ADMIN })).body.result.online, false, '/dev/hidg0 does not exist here');
  const key = await curl(`${kvm}/hid/events/send_key?key=KeyA`, { method: 'POST', headers: KVMD_ADMIN });
  assert.is(key.body.result.error, 'HidOfflineError');
  assert.is((await curl(`${kvm}/info?fields=hw`, { headers: KVMD_ADMIN })).body.result.hw.platform.type, 'rpi');
  await pikvm.stop();
});

t('offline device: a clear 503 in the envelope', async ({ cp, api }) => {
  const agent = await enrolledAgent(cp, api, { profile: 'simulated' });
  await agent.stop();
  await waitFor('offline', async () => (await api.request('GET', `/api/devices/${agent.deviceId}`)).body.online === false);
  const r = await curl(`${cp.url}/kvm/${agent.deviceId}/api/atx`, { headers: KVMD_ADMIN });
  assert.is(r.status, 503);
  assert.is(r.body.result.error, 'DeviceOfflineError');
  assert.match(r.body.result.error_msg, /offline/);
});

t.run();
