import { lazy, Suspense } from 'preact/compat';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeviceView, Permission } from '@edgehook/shared';
import { apiRoute } from '../lib/api.js';
import { ago } from '../lib/format.js';
import { useSession } from '../lib/session.js';
import { ErrorBox, NoPermission, OfflineNote, Spinner, useLoad } from '../lib/ui.js';
import { OverviewTab } from './device-overview.js';
import { ProcessesTab } from './device-processes.js';
import { HardwareTab } from './device-hardware.js';

// Terminals (xterm.js), charts (uPlot) and containers load on demand: not in the first load.
const TerminalsTab = lazy(() => import('./device-terminals.js').then((m) => m.TerminalsTab));
const TelemetryTab = lazy(() => import('./device-telemetry.js').then((m) => m.TelemetryTab));
const ContainersTab = lazy(() => import('./device-containers.js').then((m) => m.ContainersTab));
const KvmTab = lazy(() => import('./device-kvm.js').then((m) => m.KvmTab));
const SessionsTab = lazy(() => import('./device-perfkit.js').then((m) => m.SessionsTab));
const ConfigsTab = lazy(() => import('./device-perfkit.js').then((m) => m.ConfigsTab));
const ImagesTab = lazy(() => import('./device-perfkit.js').then((m) => m.ImagesTab));

const TABS: { id: string; label: string; permission: Permission | undefined }[] = [
  { id: 'overview', label: 'Overview', permission: undefined },
  { id: 'telemetry', label: 'Telemetry', permission: 'telemetry.read' },
  { id: 'terminal', label: 'Terminal', permission: 'devices.shell' },
  { id: 'processes', label: 'Processes', permission: 'devices.exec' },
  { id: 'hardware', label: 'Hardware', permission: 'devices.hardware.read' },
  { id: 'kvm', label: 'KVM', permission: 'devices.hardware.read' },
  { id: 'sessions', label: 'Sessions', permission: 'perfkit.read' },
  { id: 'configs', label: 'Configs', permission: 'perfkit.read' },
  { id: 'images', label: 'Images', permission: 'perfkit.read' },
  { id: 'containers', label: 'Containers', permission: 'containers.read' },
];

export function DevicePage({ id, tab }: { id: string; tab: string }) {
  const session = useSession();
  const { data: device, error, reload } = useLoad((signal) => apiRoute('deviceGet', { params: { id }, signal }), [id], 5000);
  const tabs = TABS.filter((t) => !t.permission || session.can(t.permission));
  const current = TABS.find((t) => t.id === tab);
  const base = `/devices/${encodeURIComponent(id)}`;

  if (!device) {
    return (
      <section class="page">
        <p><a href="/">← Fleet</a></p>
        {error ? <ErrorBox error={error} /> : <Spinner label="Loading device" />}
      </section>
    );
  }
  let body;
  if (!current) body = <p>Unknown tab.</p>;
  else if (current.permission && !session.can(current.permission)) body = <NoPermission what={`open ${current.label.toLowerCase()}`} permission={current.permission} />;
  else if (tab === 'overview') body = <OverviewTab device={device} onChange={reload} />;
  else if (tab === 'telemetry') body = <TelemetryTab device={device} />;
  else if (tab === 'terminal') body = <TerminalsTab device={device} />;
  else if (tab === 'processes') body = <ProcessesTab device={device} />;
  else if (tab === 'hardware') body = <HardwareTab device={device} />;
  else if (tab === 'kvm') body = <KvmTab device={device} />;
  else if (tab === 'sessions') body = <SessionsTab device={device} />;
  else if (tab === 'configs') body = <ConfigsTab device={device} />;
  else if (tab === 'images') body = <ImagesTab device={device} query={new URLSearchParams(location.search)} />;
  else body = <ContainersTab device={device} />;

  return (
    <section class="page">
      <p><a href="/">← Fleet</a></p>
      <div class="row between">
        <h1 class="row">
          {device.name} <span class={`badge ${device.online ? 'online' : 'offline'}`} data-testid="device-status">{device.online ? 'online' : 'offline'}</span>
        </h1>
        <span class="muted">
          {device.profile} · {device.transport === 'wsi' ? 'Quix WSI backend' : `agent ${device.agentVersion}`} · {device.online ? 'connected' : `last seen ${ago(device.lastSeen)}`}
        </span>
      </div>
      <ErrorBox error={error} />
      <OfflineNote online={device.online} lastSeen={device.lastSeen} />
      <OverflowTabs selected={tab}>
        {tabs.map((t) => (
          <a key={t.id} role="tab" href={`${base}/${t.id}`} aria-selected={t.id === tab ? 'true' : 'false'}>
            {t.label}
          </a>
        ))}
      </OverflowTabs>
      <div role="tabpanel" aria-label={current?.label ?? tab}>
        <Suspense fallback={<Spinner label={`Loading ${current?.label.toLowerCase() ?? ''}`} />}>{body}</Suspense>
      </div>
    </section>
  );
}

/**
 * The section tabs scroll sideways on a narrow screen: a fade and an arrow on the side that has
 * more tabs say so (data-more: left, right or both), and the selected tab is scrolled into view.
 */
function OverflowTabs({ selected, children }: { selected: string; children: ComponentChildren }) {
  const nav = useRef<HTMLElement>(null);
  const [more, setMore] = useState('');
  useEffect(() => {
    const el = nav.current;
    if (!el) return;
    const measure = () => {
      const left = el.scrollLeft > 1;
      const right = el.scrollLeft + el.clientWidth < el.scrollWidth - 1;
      setMore(left && right ? 'both' : left ? 'left' : right ? 'right' : '');
    };
    el.querySelector<HTMLElement>('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    measure();
    el.addEventListener('scroll', measure, { passive: true });
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => {
      el.removeEventListener('scroll', measure);
      ro.disconnect();
    };
  }, [selected]);
  return (
    <div class="tabs-wrap" data-testid="device-tabs" data-more={more}>
      <nav class="tabs" role="tablist" aria-label="Device sections" ref={nav}>
        {children}
      </nav>
      {(more === 'right' || more === 'both') && <span class="tabs-more right" aria-hidden="true">›</span>}
      {(more === 'left' || more === 'both') && <span class="tabs-more left" aria-hidden="true">‹</span>}
    </div>
  );
}
