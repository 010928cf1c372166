import { parseFlags } from '@edgehook/shared/argv';
import { z } from 'zod';
import { DeviceView } from '@edgehook/shared';
import { openSession } from '../api-client.js';
import { COMMON_OPTIONS, positionals, withUsage } from '../args.js';
import type { Command } from '../context.js';
import { UsageError } from '../errors.js';

const USAGE = `Usage: edgehook type <device> "text" [--slow] [--keymap en-us]

Types text on the machine attached to a device's USB keyboard gadget (PiKVM hid/print).
A newline presses Enter; characters the keymap lacks are skipped and counted.

Options:
  --slow            type slowly (for BIOS screens and other slow readers)
  --keymap NAME     text keymap (default en-us)
  --server URL      the control plane (default: the one you logged in to) [EDGEHOOK_SERVER]
  -h, --help        show this help`;

const PrintResult = z.object({ chars: z.number(), skipped: z.number() });

export const typeCommand: Command = {
  name: 'type',
  summary: "type text on a device's attached machine (USB keyboard)",
  usage: USAGE,
  async run(argv, ctx) {
    const parsed = withUsage(USAGE, () =>
      parseFlags({ args: argv, options: { ...COMMON_OPTIONS, slow: { type: 'boolean' }, keymap: { type: 'string' } }, strict: true, allowPositionals: true }),
    );
    if (parsed.values.help) {
      ctx.io.stdout(USAGE + '\n');
      return 0;
    }
    const [ref = '', text = ''] = positionals(parsed.positionals, ['device', 'text'], USAGE);
    if (text === '') throw new UsageError('the text is empty', USAGE);
    const api = await openSession(ctx, parsed.values.server);
    const device = await api.json(DeviceView, 'GET', `/api/devices/${encodeURIComponent(ref)}`);
    const body = { text, slow: parsed.values.slow === true, ...(parsed.values.keymap ? { keymap: parsed.values.keymap } : {}) };
    const r = await api.json(PrintResult, 'POST', `/api/devices/${encodeURIComponent(device.id)}/hardware/hid/print`, { body });
    ctx.io.stdout(`typed ${r.chars} characters${r.skipped > 0 ? `, skipped ${r.skipped} the keymap cannot type` : ''}\n`);
    return 0;
  },
};
