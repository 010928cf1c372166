import { z } from 'zod';
import { RunningProcess } from '@edgehook/shared';
import { defineCommand } from '../define-command.js';
import { json, printable, relativeTime, renderTable } from '../table.js';

const USAGE = `Usage: edgehook ps <device> [--json] [--server URL]

Processes the device's agent started (actions and exec), with CPU, memory and listening ports.

  --json        print JSON
  --server URL  the control plane (default: the one you logged in to) [EDGEHOOK_SERVER]
  -h, --help    show this help`;

export const psCommand = defineCommand({
  name: 'ps',
  summary: 'list processes started on a device',
  usage: USAGE,
  options: { json: { type: 'boolean' } },
  positionals: ['device'],
  needs: 'device',
  async run({ values, ctx, api, device }) {
    const procs = await api.json(z.array(RunningProcess), 'GET', `/api/devices/${encodeURIComponent(device.id)}/processes`);
    if (values.json) {
      ctx.io.stdout(json(procs) + '\n');
      return 0;
    }
    if (procs.length === 0) {
      ctx.io.stdout(`no processes started by the agent on ${printable(device.name)}\n`);
      return 0;
    }
    const rows = procs.map((p) => [
      String(p.pid),
      printable(p.title),
      `${p.cpu_util.toFixed(1)}%`,
      `${p.mem_util.toFixed(1)} MB`,
      p.port_util.join(',') || '-',
      relativeTime(new Date(p.startedAt).toISOString(), ctx.now()),
      printable(p.reqc.length > 60 ? p.reqc.slice(0, 57) + '...' : p.reqc),
    ]);
    ctx.io.stdout(renderTable(['PID', 'TITLE', 'CPU', 'MEM', 'PORTS', 'STARTED', 'COMMAND'], rows) + '\n');
    return 0;
  },
});
