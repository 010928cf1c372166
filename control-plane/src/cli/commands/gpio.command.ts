import * as z from '@edgehook/shared/zod';
import { GpioModel, GpioState, HwDone } from '@edgehook/shared';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { UsageError } from '../errors.js';
import { json, renderTable } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook gpio <device> [--json]
       edgehook gpio <device> switch <channel> on|off [--wait]
       edgehook gpio <device> pulse <channel> [--delay SECONDS] [--wait]

Shows a device's GPIO channels, switches an output, or pulses one (like a button press).
<device> is a device id or name; channels and their pulse bounds come from the board profile.

Options:
  --delay SECONDS   pulse length (default: the channel's default)
  --wait            return only when the operation has finished
  --json            print the state as JSON`);

const GpioView = z.object({ model: GpioModel, state: GpioState });

const ON = new Set(['on', '1', 'true', 'high']);
const OFF = new Set(['off', '0', 'false', 'low']);

export function gpioTable(view: z.infer<typeof GpioView>): string {
  const rows: string[][] = [];
  for (const [name, s] of Object.entries(view.state.inputs)) rows.push([name, 'input', s.online ? (s.state ? 'on' : 'off') : 'offline', '', '']);
  for (const [name, s] of Object.entries(view.state.outputs)) {
    const m = view.model.scheme.outputs[name];
    const mode = m ? (m.switch ? 'switch+pulse' : 'pulse') : '';
    const pulse = m ? `${m.pulse.delay}s (${m.pulse.min_delay}..${m.pulse.max_delay})` : '';
    rows.push([name, 'output', s.online ? (s.state ? 'on' : 'off') + (s.busy ? ' (busy)' : '') : 'offline', mode, pulse]);
  }
  return renderTable(['CHANNEL', 'DIRECTION', 'STATE', 'MODE', 'PULSE'], rows);
}

export const gpioCommand = defineCommand({
  name: 'gpio',
  summary: "show, switch or pulse a device's GPIO channels",
  usage: USAGE,
  options: { json: { type: 'boolean' }, wait: { type: 'boolean' }, delay: { type: 'string' } },
  positionals: ['device', 'action?', 'channel?', 'state?'],
  check({ values, args: { action, channel, state: word } }) {
    if (action !== undefined && action !== 'switch' && action !== 'pulse') throw new UsageError(`unknown action ${JSON.stringify(action)} (switch or pulse)`, USAGE);
    if (action !== undefined && channel === undefined) throw new UsageError('missing <channel>', USAGE);
    let state: boolean | undefined;
    if (action === 'switch') {
      if (word === undefined || !(ON.has(word) || OFF.has(word))) throw new UsageError('switch needs on or off', USAGE);
      state = ON.has(word);
    } else if (word !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(word)}`, USAGE);
    let delay = 0;
    if (values.delay !== undefined) {
      if (action !== 'pulse') throw new UsageError('--delay is for pulse', USAGE);
      delay = Number(values.delay);
      if (!/^\d+(\.\d+)?$/.test(values.delay) || delay <= 0) throw new UsageError(`--delay must be a number of seconds, got ${JSON.stringify(values.delay)}`, USAGE);
    }
    return { state, delay };
  },
  async run({ values, args: { device, action, channel }, checked: { state, delay }, ctx, api }) {
    const base = `/api/devices/${encodeURIComponent(device)}/hardware/gpio`;
    if (action === undefined) {
      const view = await api.json(GpioView, 'GET', base);
      ctx.io.stdout(values.json ? json(view) : (Object.keys(view.model.scheme.inputs).length + Object.keys(view.model.scheme.outputs).length === 0 ? 'This board has no GPIO channels.\n' : gpioTable(view) + '\n'));
      return 0;
    }
    const path = `${base}/${encodeURIComponent(channel ?? '')}/${action}`;
    const body = action === 'switch' ? { state, wait: values.wait === true } : { delay, wait: values.wait === true };
    const done = await api.json(HwDone, 'POST', path, { body });
    const what = action === 'switch' ? `${channel} switched ${state ? 'on' : 'off'}` : `${channel} pulsed${done.durationMs !== undefined ? ` for ${done.durationMs.toFixed(1)} ms` : done.done ? '' : ' (running)'}`;
    ctx.io.stdout(`${what}\n`);
    return 0;
  },
});
