import { ProcessSignalName } from '@edgehook/shared';
import { positiveInt, withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { UsageError } from '../errors.js';
import { printable } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook kill <device> <pid> [--signal SIGTERM|SIGKILL|SIGHUP|SIGINT] [--server URL]

Signals a process the device's agent started (see edgehook ps), with its process group.
The agent refuses any other pid.

  --signal SIG  SIGTERM (default), SIGKILL, SIGHUP or SIGINT (TERM, KILL, HUP, INT also work)`);

export const killCommand = defineCommand({
  name: 'kill',
  summary: 'signal a process started on a device',
  usage: USAGE,
  options: { signal: { type: 'string', short: 's' } },
  positionals: ['device', 'pid'],
  needs: 'device',
  check({ values, args }) {
    const pid = positiveInt('<pid>', args.pid, USAGE, 2 ** 22);
    const given = (values.signal ?? 'SIGTERM').toUpperCase();
    const signal = ProcessSignalName.safeParse(given.startsWith('SIG') ? given : `SIG${given}`);
    if (!signal.success) throw new UsageError(`--signal must be SIGTERM, SIGKILL, SIGHUP or SIGINT, got ${JSON.stringify(values.signal)}`, USAGE);
    return { pid, signal: signal.data };
  },
  async run({ checked: { pid, signal }, ctx, api, device }) {
    await api.call('POST', `/api/devices/${encodeURIComponent(device.id)}/processes/signal`, { body: { pid, mode: signal } });
    ctx.io.stdout(`sent ${signal} to ${pid} on ${printable(device.name)}\n`);
    return 0;
  },
});
