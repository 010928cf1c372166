import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { enrolledAgent, waitFor } from '../helpers/harness.js';
import { curl, KVMD_ADMIN, kvmSocket, withSimulatedBoard, type KvmContext } from './kvm-helpers.js';

const t = suite<KvmContext & { rel: { deviceId: string } }>('PiKVM HID: mouse, shortcuts, print, params (simulated boards, real agents)');

withSimulatedBoard(t);
t.before(async (ctx) => {
  ctx.rel = await enrolledAgent(ctx.cp, ctx.api, { profile: 'simulated-relative' });
});

const post = (url: string) => curl(url, { method: 'POST', headers: KVMD_ADMIN });

/** The mouse reports the simulated gadget received since the last call (hex). */
async function mouseReports(ctx: KvmContext, deviceId: string, atLeast = 0): Promise<string[]> {
  return waitFor(`${atLeast} mouse reports`, async () => {
    const r = (await ctx.api.request('GET', `/api/devices/${deviceId}/hardware/hid/mouse-reports`)).body.reports as string[];
    if (r.length < atLeast) return undefined;
    await ctx.api.request('GET', `/api/devices/${deviceId}/hardware/hid/mouse-reports?clear=true`);
    return r;
  }, 5000);
}
async function keyReports(ctx: KvmContext, deviceId: string, atLeast: number): Promise<string[]> {
  return waitFor(`${atLeast} key reports`, async () => {
    const r = (await ctx.api.request('GET', `/api/devices/${deviceId}/hardware/hid/reports`)).body.reports as string[];
    if (r.length < atLeast) return undefined;
    await ctx.api.request('GET', `/api/devices/${deviceId}/hardware/hid/reports?clear=true`);
    return r;
  }, 10_000);
}

t('REST mouse on the absolute board: move, click, wheel as 7-byte tablet reports; relative moves ignored', async (ctx) => {
  const kvm = ctx.kvm;
  await mouseReports(ctx, ctx.agent.deviceId);
  // -32768..32767 maps onto 0..32767: the top-left corner is 0, the centre 16383.
  assert.equal((await post(`${kvm}/hid/events/send_mouse_move?to_x=0&to_y=0`)).body, { ok: true, result: {} });
  await post(`${kvm}/hid/events/send_mouse_move?to_x=32767&to_y=-32768`);
  await post(`${kvm}/hid/events/send_mouse_relative?delta_x=5&delta_y=5`);
  await post(`${kvm}/hid/events/send_mouse_button?button=left`);
  await post(`${kvm}/hid/events/send_mouse_button?button=right&state=true`);
  await post(`${kvm}/hid/events/send_mouse_wheel?delta_x=0&delta_y=-5`);
  await post(`${kvm}/hid/events/send_mouse_wheel?delta_x=900&delta_y=0`); // clamped to 127
  await post(`${kvm}/hid/events/send_mouse_button?button=right&state=false`);
  assert.equal(await mouseReports(ctx, ctx.agent.deviceId, 8), [
    '00ff3fff3f0000',
    '00ff7f00000000',
    '01ff7f00000000',
    '00ff7f00000000',
    '02ff7f00000000',
    '02ff7f0000fb00',
    '02ff7f0000007f',
    '00ff7f00000000',
  ]);
});

t('REST mouse on the relative board: 5-byte reports, absolute moves ignored, state says absolute false', async (ctx) => {
  const kvm = `${ctx.cp.url}/kvm/${ctx.rel.deviceId}/api`;
  await post(`${kvm}/hid/events/send_mouse_move?to_x=100&to_y=100`);
  await post(`${kvm}/hid/events/send_mouse_relative?delta_x=10&delta_y=-3`);
  await post(`${kvm}/hid/events/send_mouse_relative?delta_x=-500&delta_y=1e9`);
  await post(`${kvm}/hid/events/send_mouse_button?button=middle&state=1`);
  assert.equal(await mouseReports(ctx, ctx.rel.deviceId, 3), ['000afd0000', '00817f0000', '0400000000']);
  const state = (await curl(`${kvm}/hid`, { headers: KVMD_ADMIN })).body.result;
  assert.equal(state.mouse, { online: true, absolute: false, outputs: { available: ['usb_rel'], active: 'usb_rel' } });
  await post(`${kvm}/hid/reset`);
  assert.equal(await mouseReports(ctx, ctx.rel.deviceId, 1), ['0000000000']);
});

t('websocket HID: JSON mouse events and kvmd binary messages reach the gadget in order; held buttons released on close', async (ctx) => {
  await mouseReports(ctx, ctx.agent.deviceId);
  await keyReports(ctx, ctx.agent.deviceId, 0);
  const s = await kvmSocket(ctx.cp.url, ctx.agent.deviceId, KVMD_ADMIN);
  await waitFor('bundle', async () => s.frames.filter((f) => f.event_type === 'loop').length === 2, 10_000);
  const json = (event_type: string, event: unknown) => s.ws.send(JSON.stringify({ event_type, event }));
  json('mouse_move', { to: { x: 0, y: 0 } });
  json('mouse_button', { button: 'left', state: true });
  json('mouse_wheel', { delta: [{ x: 0, y: 1 }, { x: 0, y: 2 }], squash: true });
  json('mouse_relative', { delta: { x: 3, y: 3 } }); // absolute board: ignored
  json('mouse_button', { button: 'nope', state: true }); // invalid: ignored, as kvmd
  // Binary: op 3 move (two big-endian i16), op 2 button (flags, name), op 5 wheel (flags, i8 pairs), op 1 key.
  const move = Buffer.alloc(5);
  move[0] = 3;
  move.writeInt16BE(32767, 1);
  move.writeInt16BE(32767, 3);
  s.ws.send(move);
  s.ws.send(Buffer.concat([Buffer.from([2, 0]), Buffer.from('left')]));
  s.ws.send(Buffer.from([5, 0, 0, 0xff]));
  s.ws.send(Buffer.concat([Buffer.from([1, 1]), Buffer.from('KeyA')]));
  s.ws.send(Buffer.concat([Buffer.from([1, 0]), Buffer.from('KeyA')]));
  s.ws.send(Buffer.concat([Buffer.from([2, 1]), Buffer.from('right')])); // still held at close
  assert.equal(await mouseReports(ctx, ctx.agent.deviceId, 7), ['00ff3fff3f0000', '01ff3fff3f0000', '01ff3fff3f0300', '01ff7fff7f0000', '00ff7fff7f0000', '00ff7fff7fff00', '02ff7fff7f0000']);
  assert.equal(await keyReports(ctx, ctx.agent.deviceId, 2), ['0000040000000000', '0000000000000000']);
  s.close();
  const rest = await mouseReports(ctx, ctx.agent.deviceId, 1);
  assert.equal(rest, ['00ff7fff7f0000'], 'the right button pressed over the socket is released when it closes');
});

t('websocket HID: binary messages with evdev codes (flag 0x80) press keys and buttons; unknown codes and bad lengths are ignored', async (ctx) => {
  await mouseReports(ctx, ctx.agent.deviceId);
  await keyReports(ctx, ctx.agent.deviceId, 0);
  const s = await kvmSocket(ctx.cp.url, ctx.agent.deviceId, KVMD_ADMIN);
  await waitFor('bundle', async () => s.frames.filter((f) => f.event_type === 'loop').length === 2, 10_000);
  const code = (op: number, flags: number, evdev: number) => Buffer.from([op, flags, evdev >> 8, evdev & 0xff]);
  s.ws.send(code(1, 0x81, 30)); // KEY_A down
  s.ws.send(code(1, 0x80, 30)); // KEY_A up
  s.ws.send(code(1, 0x81, 0x2ff)); // no such key: ignored
  s.ws.send(Buffer.from([1, 0x81, 48])); // one byte short: ignored, as kvmd's unpack fails
  s.ws.send(code(1, 0x81, 48)); // KEY_B down
  s.ws.send(code(1, 0x80, 48));
  s.ws.send(code(2, 0x81, 0x110)); // BTN_LEFT down
  s.ws.send(code(2, 0x80, 0x110));
  assert.equal(await keyReports(ctx, ctx.agent.deviceId, 4), ['0000040000000000', '0000000000000000', '0000050000000000', '0000000000000000']);
  const mouse = await mouseReports(ctx, ctx.agent.deviceId, 2);
  assert.equal(mouse.map((r) => r.slice(0, 2)), ['01', '00']);
  s.close();
});

t('send_shortcut presses in order and releases in reverse; print honours limit, keymap, slow and delay', async (ctx) => {
  const kvm = ctx.kvm;
  await keyReports(ctx, ctx.agent.deviceId, 0);
  assert.is((await post(`${kvm}/hid/events/send_shortcut?keys=ControlLeft,AltLeft,Delete`)).status, 200);
  assert.equal(await keyReports(ctx, ctx.agent.deviceId, 6), ['0100000000000000', '0500000000000000', '05004c0000000000', '0500000000000000', '0100000000000000', '0000000000000000']);
  const p = await curl(`${kvm}/hid/print?limit=2&keymap=en-us&slow=1&delay=0.01`, { method: 'POST', headers: KVMD_ADMIN, body: 'abc' });
  assert.is(p.status, 200);
  assert.equal(await keyReports(ctx, ctx.agent.deviceId, 4), ['0000040000000000', '0000000000000000', '0000050000000000', '0000000000000000']);
  const keymaps = await curl(`${kvm}/hid/keymaps`, { headers: KVMD_ADMIN });
  assert.equal(keymaps.body.result, { keymaps: { default: 'en-us', available: ['en-us'] } });
});

t('set_params toggles the jiggler (hid event shows it); bad parameters answer kvmd envelope 400', async (ctx) => {
  const kvm = ctx.kvm;
  const s = await kvmSocket(ctx.cp.url, ctx.agent.deviceId, KVMD_ADMIN);
  await waitFor('bundle', async () => s.frames.filter((f) => f.event_type === 'loop').length === 2, 10_000);
  const on = s.next('hid', (e) => e.jiggler.enabled === true);
  assert.is((await post(`${kvm}/hid/set_params?jiggler=1`)).status, 200);
  await on;
  await post(`${kvm}/hid/set_params?jiggler=0`);
  s.close();
  const cases: [string, string][] = [
    ['hid/events/send_mouse_move?to_x=abc&to_y=1', 'ValidatorError'],
    ['hid/events/send_mouse_move?to_x=1', 'ValidatorError'],
    ['hid/events/send_mouse_button?button=nope', 'ValidatorError'],
    ['hid/events/send_mouse_button?button=left&state=maybe', 'ValidatorError'],
    ['hid/events/send_mouse_wheel?delta_x=1&delta_y=', 'ValidatorError'],
    ['hid/events/send_shortcut?keys=ControlLeft,Bogus!', 'ValidatorError'],
    ['hid/set_params?jiggler=perhaps', 'ValidatorError'],
    ['hid/set_params?mouse_output=serial', 'ValidatorError'],
    ['hid/print?delay=6', 'ValidatorError'],
    ['hid/print?keymap=xx-yy', 'ValidatorError'],
    ['hid/set_connected', 'ValidatorError'],
    ['hid/set_connected?connected=sometimes', 'ValidatorError'],
  ];
  for (const [path, error] of cases) {
    const r = await curl(`${kvm}/${path}`, { method: 'POST', headers: KVMD_ADMIN, body: 'x' });
    assert.is(r.status, 400, path);
    assert.is(r.body.ok, false, path);
    assert.is(r.body.result.error, error, path);
    assert.type(r.body.result.error_msg, 'string');
  }
});

t('inactivity counts whole seconds from the last input; set_connected leaves the OTG HID connected', async (ctx) => {
  const kvm = ctx.kvm;
  const inactivity = async () => {
    const r = await curl(`${kvm}/hid/inactivity`, { headers: KVMD_ADMIN });
    assert.is(r.status, 200);
    assert.is(r.body.ok, true);
    return r.body.result.inactivity as number;
  };
  assert.is((await post(`${kvm}/hid/events/send_key?key=KeyA`)).status, 200);
  const fresh = await inactivity();
  assert.ok(fresh >= 0 && fresh <= 1, `inactivity right after a key: ${fresh}`);
  await waitFor('inactivity to reach 2 s', async () => (await inactivity()) >= 2, 6000);
  await post(`${kvm}/hid/events/send_mouse_move?to_x=100&to_y=100`);
  assert.ok((await inactivity()) <= 1, 'a mouse move resets the clock');
  for (const v of ['true', '0', 'no']) assert.is((await post(`${kvm}/hid/set_connected?connected=${v}`)).status, 200, v);
  const state = await curl(`${kvm}/hid`, { headers: KVMD_ADMIN });
  assert.is(state.body.result.connected, null);
});

t.run();
