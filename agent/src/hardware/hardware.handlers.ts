import { EdgehookError } from '@edgehook/shared';
import type { RpcHandlers } from '../devices/rpc.dispatcher.js';
import type { Hardware } from './hardware.js';
import type { PressResult } from './gpio/gpio.controller.js';
import { readSensors } from './i2c/i2c.service.js';
import { systemInfo } from './info/system-info.js';

/** `wait` false answers once the operation started (kvmd runs it in the background). */
async function finish(op: { done: Promise<PressResult> } | undefined, wait: boolean): Promise<{ done: boolean; durationMs?: number }> {
  if (!op) return { done: true };
  if (!wait) return { done: false };
  const { durationMs } = await op.done;
  return { done: true, durationMs: Math.round(durationMs * 1000) / 1000 };
}

/** The hardware RPC methods (shared/src/messages/hardware.ts) over one board. */
export function hardwareHandlers(hw: Hardware): RpcHandlers {
  const { gpio, atx, keyboard, hid, streamer, msd, serial } = hw;
  // Operations that move something are logged on the device too: its own record of what was done.
  const op = (what: string, fields: Record<string, unknown>) => hw.deps.log.info(what, fields);
  const infoDeps = { profile: hw.deps.profile, hostname: hw.deps.hostname, agentVersion: hw.deps.agentVersion, now: () => hw.deps.clock.now() };
  return {
    'hw.snapshot': async () => ({
      gpioModel: gpio.model(),
      gpio: gpio.state(),
      atx: atx.state(),
      hid: hid.state(),
      info: await systemInfo(infoDeps),
      streamer: streamer.state(),
      msd: msd.state(),
      keymaps: hid.keymaps().keymaps,
    }),
    info: async (p) => systemInfo(infoDeps, p.fields),
    log: async (p) => hw.deps.logRing.query(p),
    'gpio.state': async () => ({ model: gpio.model(), state: gpio.state() }),
    'gpio.switch': async (p) => {
      await gpio.switch(p.channel, p.state);
      op('gpio switch', { channel: p.channel, state: p.state });
      return { done: true };
    },
    'gpio.pulse': async (p) => {
      const pulse = await gpio.pulse(p.channel, p.delay);
      op('gpio pulse', { channel: p.channel, delay: p.delay });
      return finish(pulse, p.wait);
    },
    'atx.state': async () => atx.state(),
    'atx.power': async (p) => {
      const press = await atx.power(p.action);
      op('atx power', { action: p.action, pressed: press !== undefined });
      return finish(press, p.wait);
    },
    'atx.click': async (p) => {
      const press = await atx.click(p.button);
      op('atx click', { button: p.button });
      return finish(press, p.wait);
    },
    'hid.state': async () => hid.state(),
    'hid.key': async (p) => {
      hid.touch();
      await keyboard.key(p.key, p.state);
      return {};
    },
    'hid.print': async (p) => {
      hid.touch();
      return keyboard.print(p.text, { limit: p.limit, keymap: p.keymap, slow: p.slow, delaySec: p.delaySec });
    },
    'hid.inactivity': async () => ({ inactivity: hid.inactivitySeconds() }),
    // Also the mouse buttons: an operator gone must not leave anything held on the host.
    'hid.releaseAll': async () => {
      await hid.reset();
      return {};
    },
    'hid.events': async (p) => ({ applied: await hid.events(p.events) }),
    'hid.shortcut': async (p) => {
      await hid.shortcut(p.keys);
      return {};
    },
    'hid.setParams': async (p) => {
      hid.setParams(p);
      return {};
    },
    'hid.reset': async () => {
      await hid.reset();
      return {};
    },
    'hid.keymaps': async () => hid.keymaps(),
    'hid.mouseReports': async (p) => {
      const sink = hw.sim.mouse;
      if (!sink) throw new EdgehookError('BAD_REQUEST', 'only the simulated mouse keeps the reports it wrote');
      const reports = sink.reports().map((r) => r.toString('hex'));
      if (p.clear) sink.clear();
      return { absolute: hid.mouse.absolute, reports };
    },
    'streamer.state': async () => streamer.state(),
    'streamer.setParams': async (p) => {
      await streamer.setParams(p);
      return {};
    },
    'msd.state': async () => msd.state(),
    'msd.setParams': async (p) => {
      await msd.setParams(p);
      return {};
    },
    'msd.setConnected': async (p) => {
      await msd.setConnected(p.connected);
      op('msd connected', { connected: p.connected });
      return {};
    },
    'msd.remove': async (p) => {
      await msd.remove(p.image);
      op('msd remove', { image: p.image });
      return {};
    },
    'msd.reset': async () => {
      await msd.reset();
      return {};
    },
    'hid.reports': async (p) => {
      const sink = hw.sim.hid;
      if (!sink) throw new EdgehookError('BAD_REQUEST', 'only the simulated HID keeps the reports it wrote');
      const reports = sink.reports().map((r) => r.toString('hex'));
      if (p.clear) sink.clear();
      return { reports };
    },
    'i2c.read': async () => ({ sensors: await readSensors(hw.deps.profile, hw.i2c) }),
    'serial.list': async () => ({ ports: serial.list() }),
    'serial.exchange': async (p) => ({ data: await serial.exchange(p.port, p.data, { baud: p.baud, readMs: p.readMs }) }),
  };
}
