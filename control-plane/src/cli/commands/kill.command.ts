import { parseFlags } from '@edgehook/shared/argv';
import { DeviceView, ProcessSignalName } from '@edgehook/shared';
import { openSession } from '../api-client.js';
import { COMMON_OPTIONS, positionals, positiveInt, withUsage } from '../args.js';
import type { Command } from '../context.js';
import { UsageError } from '../errors.js';
import { printable } from '../table.js';

const USAGE = `Usage: edgehook kill <device> <pid> [--signal SIGTERM|SIGKILL|SIGHUP|SIGINT] [--server URL]

Signals a process the device's agent started (see edgehook ps), with its process group.
The agent refuses any other pid.

  --signal SIG  SIGTERM (default), SIGKILL, SIGHUP or SIGINT (TERM, KILL, HUP, INT also work)
  --server URL  the control plane (default: the one you logged in to) [EDGEHOOK_SERVER]
  -h, --help    show this help`;

export const killCommand: Command = {
  name: 'kill',
  summary: 'signal a process started on a device',
  usage: USAGE,
  async run(argv, ctx) {
    const parsed = withUsage(USAGE, () => parseFlags({ args: argv, options: { ...COMMON_OPTIONS, signal: { type: 'string', short: 's' } }, strict: true, allowPositionals: true }));
    const { values } = parsed;
    if (values.help) {
      ctx.io.stdout(USAGE + '\n');
      return 0;
    }
    const [ref = '', pidText = ''] = positionals(parsed.positionals, ['device', 'pid'], USAGE);
    const pid = positiveInt('<pid>', pidText, USAGE, 2 ** 22);
    const given = (values.signal ?? 'SIGTERM').toUpperCase();
    const signal = ProcessSignalName.safeParse(given.startsWith('SIG') ? given : `SIG${given}`);
    if (!signal.success) throw new UsageError(`--signal must be SIGTERM, SIGKILL, SIGHUP or SIGINT, got ${JSON.stringify(values.signal)}`, USAGE);
    const api = await openSession(ctx, values.server);
    const device = await api.json(DeviceView, 'GET', `/api/devices/${encodeURIComponent(ref)}`);
    await api.call('POST', `/api/devices/${encodeURIComponent(device.id)}/processes/signal`, { body: { pid, mode: signal.data } });
    ctx.io.stdout(`sent ${signal.data} to ${pid} on ${printable(device.name)}\n`);
    return 0;
  },
};
