import type { DeviceView } from '@edgehook/shared';
import { apiRoute } from '../lib/api.js';
import { ago } from '../lib/format.js';
import { useSession } from '../lib/session.js';
import { ErrorBox, useAction, useLoad } from '../lib/ui.js';

/** The device's WireGuard VPN (docs/vpn.md): address, state, key, and enabling or re-issuing it. */
export function VpnCard({ device }: { device: DeviceView }) {
  const session = useSession();
  const issue = useAction();
  const vpn = useLoad((signal) => apiRoute('deviceVpnGet', { params: { id: device.id }, signal }), [device.id, device.online], 15_000);
  const v = vpn.data;
  const s = v?.status;
  const state = !v ? '…' : !v.enabled ? 'off' : s ? `${s.state}${s.mode === 'simulate' ? ' (simulated)' : ''}` : 'issued';
  const handshake = s?.latestHandshake ? ago(new Date(s.latestHandshake * 1000).toISOString()) : s?.mode === 'apply' ? 'none yet' : '–';
  return (
    <div class="card" data-testid="device-vpn">
      <h2>VPN</h2>
      <ErrorBox error={vpn.error ?? issue.error} />
      {v && (
        <dl class="facts">
          <dt>State</dt>
          <dd><span class={`badge vpn ${v.enabled ? (s?.state ?? 'issued') : 'off'}`} data-testid="vpn-state">{state}</span></dd>
          <dt>Address</dt><dd class="mono" data-testid="vpn-address">{v.address ?? '–'}</dd>
          <dt>Key</dt><dd>{v.keySource === 'device' ? 'made on the device' : v.keySource === 'server' ? 'made by the server (WSI)' : '–'}</dd>
          <dt>Public key</dt><dd class="mono">{v.publicKey ?? '–'}</dd>
          <dt>Handshake</dt><dd>{handshake}</dd>
          {s?.error && (<><dt>Error</dt><dd>{s.error}</dd></>)}
        </dl>
      )}
      {session.can('devices.vpn.write') && (
        <div class="row" style={{ marginTop: '10px' }}>
          <button
            type="button"
            disabled={!device.online || issue.busy}
            title={device.online ? undefined : 'the device is offline'}
            onClick={() => void issue.run(async () => {
              await apiRoute('deviceVpnIssue', { params: { id: device.id }, body: {} });
              vpn.reload();
            })}
          >
            {issue.busy ? 'Applying…' : v?.enabled ? 'Re-issue VPN config' : 'Enable VPN'}
          </button>
        </div>
      )}
    </div>
  );
}
