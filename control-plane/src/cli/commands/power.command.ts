import { AtxState, HwDone } from '@edgehook/shared';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { UsageError } from '../errors.js';
import { json } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook power <device> [status] [--json]
       edgehook power <device> on|off|off-hard|reset [--wait]

Drives the ATX power and reset buttons wired to a device (a PiKVM-style board), as the
PiKVM API does: on (if off), off (short press: the OS shuts down), off-hard (long press:
forced off), reset (reset button). Needs the devices.power permission.

Options:
  --wait            return only when the button press has finished
  --json            print the ATX state as JSON`);

const ACTIONS = { on: 'on', off: 'off', 'off-hard': 'off_hard', reset: 'reset_hard' } as const;

function isAction(word: string): word is keyof typeof ACTIONS {
  return Object.hasOwn(ACTIONS, word);
}

export function describeAtx(s: AtxState): string {
  if (!s.enabled) return 'ATX: not wired on this board\n';
  return `power: ${s.leds.power ? 'on' : 'off'}  hdd: ${s.leds.hdd ? 'active' : 'idle'}${s.busy ? '  (busy)' : ''}\n`;
}

export const powerCommand = defineCommand({
  name: 'power',
  summary: 'ATX power: status, on, off, off-hard, reset',
  usage: USAGE,
  options: { json: { type: 'boolean' }, wait: { type: 'boolean' } },
  positionals: ['device', 'action?'],
  check({ args: { action = 'status' } }) {
    if (action !== 'status' && !isAction(action)) throw new UsageError(`unknown action ${JSON.stringify(action)} (status, on, off, off-hard or reset)`, USAGE);
    return action;
  },
  async run({ values, args, checked: word, ctx, api }) {
    const base = `/api/devices/${encodeURIComponent(args.device)}/hardware/atx`;
    if (word !== 'status') {
      const done = await api.json(HwDone, 'POST', `${base}/power`, { body: { action: ACTIONS[word], wait: values.wait === true } });
      ctx.io.stdout(`${word}: ${done.done ? 'done' : 'button pressed'}\n`);
    }
    const state = await api.json(AtxState, 'GET', base);
    ctx.io.stdout(values.json ? json(state) : describeAtx(state));
    return 0;
  },
});
