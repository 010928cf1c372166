import * as z from '@edgehook/shared/zod';
import { RunningProcess } from '@edgehook/shared';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { listing, printable, relativeTime } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook ps <device> [--json] [--server URL]

Processes the device's agent started (actions and exec), with CPU, memory and listening ports.

  --json        print JSON`);

export const psCommand = defineCommand({
  name: 'ps',
  summary: 'list processes started on a device',
  usage: USAGE,
  options: { json: { type: 'boolean' } },
  positionals: ['device'],
  needs: 'device',
  async run({ values, ctx, api, device }) {
    const procs = await api.json(z.array(RunningProcess), 'GET', `/api/devices/${encodeURIComponent(device.id)}/processes`);
    const row = (p: RunningProcess): string[] => [
      String(p.pid),
      printable(p.title),
      `${p.cpu_util.toFixed(1)}%`,
      `${p.mem_util.toFixed(1)} MB`,
      p.port_util.join(',') || '-',
      relativeTime(new Date(p.startedAt).toISOString(), ctx.now()),
      printable(p.reqc.length > 60 ? p.reqc.slice(0, 57) + '...' : p.reqc),
    ];
    ctx.io.stdout(listing(procs, { json: values.json, empty: `no processes started by the agent on ${printable(device.name)}`, headers: ['PID', 'TITLE', 'CPU', 'MEM', 'PORTS', 'STARTED', 'COMMAND'], row }));
    return 0;
  },
});
