import { z } from 'zod';
import { ContainerInfo } from '@edgehook/shared';
import { defineCommand } from '../define-command.js';
import { json, printable, relativeTime, renderTable } from '../table.js';

const USAGE = `Usage: edgehook containers <device> [--json] [--server URL]

The containers on a device (running and stopped), with their power state and ports.
Servers Edgehook declared are marked with their server name.

  --json        print JSON
  --server URL  the control plane (default: the one you logged in to) [EDGEHOOK_SERVER]
  -h, --help    show this help`;

export const containersCommand = defineCommand({
  name: 'containers',
  summary: 'list the containers on a device',
  usage: USAGE,
  options: { json: { type: 'boolean' } },
  positionals: ['device'],
  needs: 'device',
  async run({ values, ctx, api, device }) {
    const list = await api.json(z.array(ContainerInfo), 'GET', `/api/devices/${encodeURIComponent(device.id)}/containers`);
    if (values.json) {
      ctx.io.stdout(json(list) + '\n');
      return 0;
    }
    if (list.length === 0) {
      ctx.io.stdout(`no containers on ${printable(device.name)}\n`);
      return 0;
    }
    const rows = list.map((c) => [
      printable(c.name),
      c.id.slice(0, 12),
      printable(c.image),
      c.power,
      printable(c.status),
      c.ports.map((p) => (p.host ? `${p.host}->${p.container}/${p.protocol}` : `${p.container}/${p.protocol}`)).join(',') || '-',
      c.server ? (c.declared ? `declared:${printable(c.server)}` : 'edgehook') : '-',
      relativeTime(new Date(c.createdAt).toISOString(), ctx.now()),
    ]);
    ctx.io.stdout(renderTable(['NAME', 'ID', 'IMAGE', 'POWER', 'STATUS', 'PORTS', 'OWNER', 'CREATED'], rows) + '\n');
    return 0;
  },
});
