import * as z from '@edgehook/shared/zod';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { UsageError } from '../errors.js';

const USAGE = withCommonHelp(`Usage: edgehook type <device> "text" [--slow] [--keymap en-us]

Types text on the machine attached to a device's USB keyboard gadget (PiKVM hid/print).
A newline presses Enter; characters the keymap lacks are skipped and counted.

Options:
  --slow            type slowly (for BIOS screens and other slow readers)
  --keymap NAME     text keymap (default en-us)`);

const PrintResult = z.object({ chars: z.number(), skipped: z.number() });

export const typeCommand = defineCommand({
  name: 'type',
  summary: "type text on a device's attached machine (USB keyboard)",
  usage: USAGE,
  options: { slow: { type: 'boolean' }, keymap: { type: 'string' } },
  positionals: ['device', 'text'],
  check({ args }) {
    if (args.text === '') throw new UsageError('the text is empty', USAGE);
  },
  async run({ values, args, ctx, api }) {
    const body = { text: args.text, slow: values.slow === true, ...(values.keymap ? { keymap: values.keymap } : {}) };
    const r = await api.json(PrintResult, 'POST', `/api/devices/${encodeURIComponent(args.device)}/hardware/hid/print`, { body });
    ctx.io.stdout(`typed ${r.chars} characters${r.skipped > 0 ? `, skipped ${r.skipped} the keymap cannot type` : ''}\n`);
    return 0;
  },
});
