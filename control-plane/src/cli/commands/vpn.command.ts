import { writeFile } from 'node:fs/promises';
import type { DeviceVpnView } from '@edgehook/shared';
import { VpnRoutes as R, pathFor } from '@edgehook/shared/rest';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { UsageError } from '../errors.js';
import { json, printable, relativeTime, renderTable } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook vpn <action> [options]

The WireGuard VPN (docs/vpn.md): one hub, an address and a key per device.
  status [device]      the hub and every peer, or one device's VPN state
  enable <device>      give the device an address and apply its config (again: re-issue)
  hub-conf             the hub's wg-quick config for your WireGuard server

Options:
  --rotate         enable: make a new key pair on the device
  -o, --output F   hub-conf: write to file F (mode 0600) instead of stdout
  --json           print JSON`);

type VpnAction = { action: 'status'; device: string | undefined } | { action: 'enable'; device: string } | { action: 'hub-conf' };

function state(v: DeviceVpnView, now: number): string[] {
  const s = v.status;
  const handshake = s?.latestHandshake ? relativeTime(new Date(s.latestHandshake * 1000).toISOString(), now) : '-';
  return [printable(v.name), v.address ?? '-', v.enabled ? (s ? `${s.state}${s.mode === 'simulate' ? ' (simulated)' : ''}` : 'issued') : 'off', v.keySource ?? '-', handshake, s?.error ? printable(s.error) : ''];
}
const HEADERS = ['DEVICE', 'ADDRESS', 'STATE', 'KEY', 'HANDSHAKE', 'ERROR'];

export const vpnCommand = defineCommand({
  name: 'vpn',
  summary: 'the WireGuard VPN: status, enable a device, the hub config',
  usage: USAGE,
  options: { json: { type: 'boolean' }, rotate: { type: 'boolean' }, output: { type: 'string', short: 'o' } },
  positionals: ['action?', 'device?'],
  check({ args: { action, device }, values }): VpnAction {
    if (values.rotate && action !== 'enable') throw new UsageError('--rotate goes with enable', USAGE);
    if (values.output !== undefined && action !== 'hub-conf') throw new UsageError('--output goes with hub-conf', USAGE);
    if (action === 'status') return { action, device };
    if (action === 'enable') {
      if (!device) throw new UsageError('missing <device>', USAGE);
      return { action, device };
    }
    if (action === 'hub-conf') {
      if (device !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(device)}`, USAGE);
      return { action };
    }
    throw new UsageError(action ? `unknown action ${JSON.stringify(action)}: status, enable or hub-conf` : 'missing <action>: status, enable or hub-conf', USAGE);
  },
  async run({ values, checked, ctx, api }) {
    const now = ctx.now();
    if (checked.action === 'hub-conf') {
      const text = await api.text(R.vpnHubConf.method, pathFor(R.vpnHubConf, {}));
      if (values.output === undefined) ctx.io.stdout(text);
      else {
        // It may hold the hub's private key: only its owner reads the file.
        await writeFile(values.output, text, { mode: 0o600 });
        ctx.io.stdout(`wrote ${values.output}\n`);
      }
      return 0;
    }
    if (checked.action === 'enable') {
      const v = await api.route(R.deviceVpnIssue, { params: { id: checked.device }, body: values.rotate ? { rotate: true } : {} });
      if (values.json) ctx.io.stdout(json(v) + '\n');
      else ctx.io.stdout(`${printable(v.name)}: ${v.address ?? '-'} ${v.status ? v.status.state : 'issued'}${v.status?.error ? ` (${printable(v.status.error)})` : ''}\n`);
      return v.status?.state === 'error' ? 1 : 0;
    }
    if (checked.device !== undefined) {
      const v = await api.route(R.deviceVpnGet, { params: { id: checked.device } });
      ctx.io.stdout(values.json ? json(v) + '\n' : renderTable(HEADERS, [state(v, now)]) + '\n');
      return 0;
    }
    const hub = await api.route(R.vpnHub, { params: {} });
    if (values.json) ctx.io.stdout(json(hub) + '\n');
    else if (!hub.enabled) ctx.io.stdout('the VPN is off: start the control plane with --vpn-endpoint host:port (docs/vpn.md)\n');
    else {
      ctx.io.stdout(`hub ${hub.endpoint ?? ''}  ${hub.hubAddress ?? ''} in ${hub.subnet ?? ''}  ${hub.used}/${hub.capacity} addresses  key ${hub.hubPublicKey ?? ''}\n`);
      ctx.io.stdout(hub.peers.length === 0 ? 'no devices on the VPN yet: edgehook vpn enable <device>\n' : renderTable(HEADERS, hub.peers.map((p) => state(p, now))) + '\n');
    }
    return 0;
  },
});
