import * as z from '@edgehook/shared/zod';
import { DeviceView } from '@edgehook/shared';
import { booleanWord, withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { json, list, relativeTime, renderTable } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook devices [--tag T] [--online true|false] [--json] [--server URL]

Lists the enrolled devices.

Options:
  --tag T                only devices with this tag
  --online true|false    only devices that are (not) connected
  --json                 print the devices as a JSON array`);

export function devicesTable(devices: DeviceView[], now: number): string {
  return renderTable(
    ['NAME', 'ID', 'STATUS', 'LAST SEEN', 'PROFILE', 'AGENT', 'TAGS'],
    devices.map((d) => [d.name, d.id, d.online ? 'online' : 'offline', d.online ? 'now' : relativeTime(d.lastSeen, now), d.profile, d.agentLatest ? `${d.agentVersion} (behind ${d.agentLatest})` : d.agentVersion, list(d.tags)]),
  );
}

export const devicesCommand = defineCommand({
  name: 'devices',
  summary: 'list devices',
  usage: USAGE,
  options: { json: { type: 'boolean' }, tag: { type: 'string' }, online: { type: 'string' } },
  // Checked before the session opens, so a typo is a usage error, not a round trip.
  check: ({ values }) => (values.online === undefined ? undefined : String(booleanWord('online', values.online, USAGE))),
  async run({ values, checked: online, ctx, api }) {
    const devices = await api.json(z.array(DeviceView), 'GET', '/api/devices', { query: { tag: values.tag, online } });
    if (values.json) {
      ctx.io.stdout(json(devices));
    } else if (devices.length === 0) {
      const filtered = values.tag !== undefined || online !== undefined;
      ctx.io.stdout(filtered ? 'No devices match.\n' : 'No devices yet. Create an enrollment token with: edgehook enroll-token create\n');
    } else {
      ctx.io.stdout(devicesTable(devices, ctx.now()) + '\n');
    }
    return 0;
  },
});
