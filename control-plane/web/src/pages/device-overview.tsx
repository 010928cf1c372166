import { useState } from 'preact/hooks';
import type { DeviceView, Info } from '@edgehook/shared';
import { apiRoute } from '../lib/api.js';
import { ago, bytes, duration } from '../lib/format.js';
import { useSession } from '../lib/session.js';
import { ErrorBox, useAction, useLoad } from '../lib/ui.js';
import { HardwareInfoFacts } from './hardware-info.js';
import { VpnCard } from './device-vpn.js';

export function OverviewTab({ device, onChange }: { device: DeviceView; onChange: () => void }) {
  const session = useSession();
  const ping = useAction();
  const save = useAction();
  const [rtt, setRtt] = useState<number | undefined>(undefined);
  const [tags, setTags] = useState(device.tags.join(', '));
  const canInfo = session.can('devices.hardware.read') && device.online;
  const info = useLoad((signal) => (canInfo ? apiRoute('hwInfo', { params: { id: device.id }, signal }) : Promise.resolve(undefined)), [device.id, canInfo]);
  const hw = device.hardware;
  const sys = device.system;
  return (
    <div class="grid2">
      <div class="card">
        <h2>Device</h2>
        <dl class="facts">
          <dt>Name</dt><dd>{device.name}</dd>
          <dt>Hostname</dt><dd>{device.hostname}</dd>
          <dt>Id</dt><dd class="mono">{device.id}</dd>
          <dt>Board profile</dt><dd>{device.profile}</dd>
          <dt>Agent</dt><dd>{device.agentVersion}</dd>
          <dt>Status</dt><dd>{device.online ? 'online' : `offline, last seen ${ago(device.lastSeen)}`}</dd>
          <dt>Enrolled</dt><dd>{new Date(device.createdAt).toLocaleString()}</dd>
        </dl>
        {session.can('devices.ping') && (
          <div class="row" style={{ marginTop: '10px' }}>
            <button type="button" disabled={!device.online || ping.busy} onClick={() => void ping.run(async () => setRtt((await apiRoute('devicePing', { params: { id: device.id } })).rttMs))}>
              {ping.busy ? 'Pinging…' : 'Ping'}
            </button>
            {rtt !== undefined && <span aria-live="polite">round trip {rtt.toFixed(1)} ms</span>}
          </div>
        )}
        <ErrorBox error={ping.error} />
      </div>
      <div class="card">
        <h2>System</h2>
        <dl class="facts">
          <dt>Model</dt><dd>{hw?.model ?? '–'}</dd>
          <dt>CPU</dt><dd>{hw ? `${hw.cpus} × ${hw.cpuModel ?? hw.arch}` : '–'}</dd>
          <dt>Memory</dt><dd>{hw ? bytes(hw.memTotalBytes) : '–'}</dd>
          <dt>Platform</dt><dd>{hw ? `${hw.platform} / ${hw.arch}` : '–'}</dd>
          <dt>OS</dt><dd>{sys?.os ?? '–'}</dd>
          <dt>Kernel</dt><dd>{sys?.kernel ?? '–'}</dd>
          <dt>Uptime</dt><dd>{sys ? duration(sys.uptimeSec) : '–'}</dd>
          <dt>Node.js</dt><dd>{sys?.nodeVersion ?? '–'}</dd>
        </dl>
      </div>
      <div class="card">
        <h2>Tags</h2>
        {session.can('devices.write') ? (
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault();
              void save.run(async () => {
                await apiRoute('deviceUpdate', { params: { id: device.id }, body: { tags: tags.split(/[\s,]+/).filter(Boolean) } });
                onChange();
              });
            }}
          >
            <label class="grow" style={{ flex: 1 }}>
              Tags
              <input value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
            </label>
            <button type="submit" disabled={save.busy} style={{ alignSelf: 'end' }}>Save tags</button>
          </form>
        ) : (
          <p>{device.tags.map((t) => <span class="tag" key={t}>{t}</span>)}{device.tags.length === 0 && <span class="muted">no tags</span>}</p>
        )}
        <ErrorBox error={save.error} />
      </div>
      {session.can('devices.vpn.read') && <VpnCard device={device} />}
      {session.can('devices.forward') && <WebUiCard device={device} />}
      {canInfo && (
        <div class="card">
          <h2>Hardware info</h2>
          <ErrorBox error={info.error} />
          {info.data ? <HardwareInfoFacts info={info.data} uptimeSec={sys?.uptimeSec} /> : !info.error && <p class="muted">Asking the device…</p>}
        </div>
      )}
    </div>
  );
}

/** Link to a web server on the device (its 127.0.0.1:<port>) through the control plane's HTTP proxy. */
function WebUiCard({ device }: { device: DeviceView }) {
  const [port, setPort] = useState('80');
  const n = Number(port);
  const valid = Number.isInteger(n) && n >= 1 && n <= 65535;
  const href = `/api/devices/${encodeURIComponent(device.id)}/proxy/${n}/`;
  return (
    <div class="card">
      <h2>Web UI on the device</h2>
      <p class="muted">Opens http://127.0.0.1:PORT as the device serves it, through the control plane (the device's --forward-allow decides which ports it serves).</p>
      <div class="row">
        <label>
          Port
          <input name="proxy-port" inputMode="numeric" value={port} onInput={(e) => setPort(e.currentTarget.value)} style={{ width: '7em' }} />
        </label>
        {valid && device.online ? (
          <a class="button" href={href} target="_blank" rel="noopener noreferrer" style={{ alignSelf: 'end' }}>
            Open port {n}
          </a>
        ) : (
          <span class="muted" style={{ alignSelf: 'end' }}>{device.online ? 'a port from 1 to 65535' : 'the device is offline'}</span>
        )}
      </div>
    </div>
  );
}
