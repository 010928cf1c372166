import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { ADMIN_PASSWORD, waitFor } from '../helpers/harness.js';
import { basic, curl, KVMD_ADMIN, kvmSocket, userWith, withSimulatedBoard, type KvmContext } from './kvm-helpers.js';

const t = suite<KvmContext>('PiKVM event websocket (simulated board, real agent)');

withSimulatedBoard(t);

t('on connect: loop with the version first, every state under its kvmd 4.x and classic names, a closing loop; both pings', async ({ cp, agent }) => {
  const s = await kvmSocket(cp.url, agent.deviceId, KVMD_ADMIN);
  await waitFor('the whole bundle', async () => s.frames.filter((f) => f.event_type === 'loop').length === 2, 10_000);
  const types = s.frames.map((f) => f.event_type);
  // kvmd 4.x clients read the version from the first frame; classic ones start their loop at the last.
  assert.is(types[0], 'loop');
  assert.equal(s.frames[0]?.event, { version: { major: 4, minor: 197 } });
  assert.is(types.at(-1), 'loop');
  for (const type of ['gpio', 'hid', 'atx', 'msd', 'streamer', 'ocr', 'info', 'switch', 'hid_keymaps', 'clients']) assert.ok(types.includes(type), type);
  for (const type of ['gpio_model_state', 'gpio_state', 'atx_state', 'hid_state', 'msd_state', 'streamer_state', 'info_hw_state', 'info_system_state', 'info_meta_state']) assert.ok(types.includes(type), type);
  // Each new name comes before its classic twin.
  assert.ok(types.indexOf('atx') < types.indexOf('atx_state'));
  const ev = (type: string) => s.frames.find((f) => f.event_type === type)?.event;
  assert.equal(Object.keys(ev('atx')).sort(), ['acts', 'busy', 'enabled', 'leds']);
  // Current: pin a string and the title a list of items; classic: a number and a string.
  assert.is(ev('gpio').model.scheme.outputs.relay.hw.pin, '17');
  assert.equal(ev('gpio').model.view.header.title, [{ type: 'label', text: 'GPIO' }]);
  assert.is(ev('gpio_model_state').scheme.outputs.relay.hw.pin, 17);
  assert.is(ev('gpio_model_state').view.header.title, 'GPIO');
  assert.equal(Object.keys(ev('gpio')).sort(), ['model', 'state']);
  const hid = ev('hid');
  assert.is(hid.enabled, true);
  assert.is(hid.connected, null);
  assert.equal(hid.mouse, { online: true, absolute: true, outputs: { available: ['usb'], active: 'usb' } });
  assert.equal(hid.jiggler, { enabled: false, active: false, interval: 60 });
  assert.equal(hid.keyboard.outputs, { available: [], active: '' });
  assert.equal(ev('hid_keymaps'), { keymaps: { default: 'en-us', available: ['en-us'] } });
  assert.equal(Object.keys(ev('info')).sort(), ['auth', 'extras', 'fan', 'health', 'meta', 'system']);
  assert.ok(ev('info').system.platform, 'platform moved under system');
  assert.is(ev('streamer').streamer, null, 'no viewer: the streamer is stopped');
  assert.equal(ev('streamer_state').limits, { max_fps: 120 });
  assert.equal(ev('msd_state').features, { multi: true, cdrom: true });
  assert.equal(ev('msd').drive, { image: null, connected: false, cdrom: false, rw: false });
  s.ws.send(JSON.stringify({ event_type: 'ping', event: {} }));
  assert.equal((await s.next('pong')).event, {});
  // kvmd's binary ping: op 0 -> the single byte 255.
  const pong = new Promise<Buffer>((resolve) => s.ws.on('message', (d, isBinary) => isBinary && resolve(Buffer.from(d as Buffer))));
  s.ws.send(Buffer.from([0]));
  assert.equal([...(await pong)], [255]);
  s.close();
});

t('an ATX click on the REST API shows up as atx_state LED changes on the socket', async ({ cp, agent, kvm }) => {
  const s = await kvmSocket(cp.url, agent.deviceId, basic('admin', ADMIN_PASSWORD));
  await s.next('loop');
  const on = s.next('atx_state', (e) => e.leds.power === true);
  const busy = s.next('atx_state', (e) => e.busy === true);
  assert.is((await curl(`${kvm}/atx/click?button=power`, { method: 'POST', headers: KVMD_ADMIN })).status, 200);
  await busy;
  await on;
  await s.next('atx_state', (e) => e.leds.hdd === true); // booting: the HDD LED blinks
  await s.next('atx_state', (e) => e.busy === false);
  // And off again with a short press, so later tests start from a known state.
  const off = s.next('atx_state', (e) => e.leds.power === false, 3000);
  await curl(`${kvm}/atx/click?button=power&wait=1`, { method: 'POST', headers: KVMD_ADMIN });
  await off;
  s.close();
});

t('gpio changes arrive as gpio_state: a pulse is seen going up and down', async ({ cp, agent, kvm }) => {
  const s = await kvmSocket(cp.url, agent.deviceId, KVMD_ADMIN);
  await s.next('loop');
  const up = s.next('gpio_state', (e) => e.outputs.doorbell?.state === true);
  const down = s.next('gpio_state', (e) => e.outputs.doorbell?.state === false && e.outputs.doorbell?.busy === false);
  await curl(`${kvm}/gpio/pulse?channel=doorbell&delay=0.2`, { method: 'POST', headers: KVMD_ADMIN });
  const [a, b] = [await up, await down];
  assert.ok(b.at - a.at >= 100, `pulse seen for ${b.at - a.at} ms`);
  s.close();
});

t('key events from the socket reach the simulated HID as reports; held keys are released on close', async ({ cp, api, agent }) => {
  await api.request('GET', `/api/devices/${agent.deviceId}/hardware/hid/reports?clear=true`);
  const s = await kvmSocket(cp.url, agent.deviceId, KVMD_ADMIN);
  await s.next('loop');
  const send = (key: string, state: boolean) => s.ws.send(JSON.stringify({ event_type: 'key', event: { key, state } }));
  send('ControlLeft', true);
  send('KeyC', true);
  send('KeyC', false);
  send('KeyX', true); // still held when the socket closes
  s.ws.send('not json');
  s.ws.send(JSON.stringify({ event_type: 'key', event: { key: 'Bogus!', state: true } }));
  await s.next('hid_state', (e) => e.keyboard.pressed.includes('KeyX'));
  s.close();
  const reports = await waitFor('release on close', async () => {
    const r = (await api.request('GET', `/api/devices/${agent.deviceId}/hardware/hid/reports`)).body.reports as string[];
    return r.at(-1) === '0000000000000000' && r.length >= 5 ? r : undefined;
  }, 5000);
  assert.equal(reports, ['0100000000000000', '0100060000000000', '0100000000000000', '01001b0000000000', '0000000000000000']);
});

t('a viewer without hardware.write may watch but its key events are ignored', async ({ cp, api, agent }) => {
  const viewer = await userWith(api, 'watcher', ['devices.read', 'devices.hardware.read']);
  await api.request('GET', `/api/devices/${agent.deviceId}/hardware/hid/reports?clear=true`);
  const s = await kvmSocket(cp.url, agent.deviceId, { 'x-kvmd-user': viewer.user, 'x-kvmd-passwd': viewer.pass });
  await s.next('loop');
  s.ws.send(JSON.stringify({ event_type: 'key', event: { key: 'KeyA', state: true } }));
  s.ws.send(JSON.stringify({ event_type: 'ping', event: {} }));
  await s.next('pong');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await api.request('GET', `/api/devices/${agent.deviceId}/hardware/hid/reports`)).body.reports, []);
  s.close();
});

t('refusals: no credentials 401, wrong 403 before the handshake; unknown device closes with 4404', async ({ cp }) => {
  const status = (headers: Record<string, string>, device = 'x') =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(`${cp.url.replace('http', 'ws')}/kvm/${device}/api/ws?stream=0`, { headers });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('close', (code) => resolve(code));
      ws.on('error', () => undefined);
    });
  assert.is(await status({}), 401);
  assert.is(await status({ 'x-kvmd-user': 'admin', 'x-kvmd-passwd': 'wrong' }), 403);
  assert.is(await status(KVMD_ADMIN, 'no-such-device'), 4404);
  assert.is(await status(KVMD_ADMIN, '%E0%A4%A'), 4404);
});

t.run();
