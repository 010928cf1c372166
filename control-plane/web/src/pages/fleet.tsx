import { memo } from 'preact/compat';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { DeviceView } from '@edgehook/shared';
import { apiRoute, loadSchemas, openSocket, parseFrame } from '../lib/api.js';
import { ago, num } from '../lib/format.js';
import { useSession } from '../lib/session.js';
import { ErrorBox, Spinner } from '../lib/ui.js';
import { AddDevice } from './add-device.js';
import { LoadJournal, loadFleetPages } from './fleet-loader.js';

const ROW = 44;
const OVERSCAN = 8;
/** Presence events are applied in batches this often: 1,000 events/s cost one re-render per batch. */
const PRESENCE_BATCH_MS = 250;
type SortKey = 'name' | 'online' | 'profile' | 'lastSeen' | 'cpu' | 'temp';
interface Latest {
  cpu?: number;
  temp?: number;
}

/**
 * The fleet: devices in a Map, live presence from /api/events. Presence events are queued and applied
 * every PRESENCE_BATCH_MS; each replaces one device object, so only the visible rows whose device
 * changed re-render (rows are memoized on their device object). The sorted, filtered order is a list
 * of ids, recomputed only when membership, the filter or the sort changes (or presence, when sorting
 * by status or last seen): with 10,000 devices a re-sort per event burst was the page's long task.
 */
export function FleetPage() {
  const session = useSession();
  const devices = useRef(new Map<string, DeviceView>());
  const latest = useRef(new Map<string, Latest>());
  const [version, setVersion] = useState(0);
  // Bumped when devices are added, removed or edited (not on presence): tags and the order depend on it.
  const [members, setMembers] = useState(0);
  const presence = useRef(new Map<string, { online: boolean; ts: number }>());
  // Set while the pages of the list arrive: what the socket said meanwhile (fleet-loader.ts).
  const journal = useRef<LoadJournal | undefined>(undefined);
  const presenceTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loaded, setLoaded] = useState(false);
  const [live, setLive] = useState<'connecting' | 'live' | 'lost'>('connecting');
  const [query, setQuery] = useState(() => new URLSearchParams(location.search).get('q') ?? '');
  const [tag, setTag] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'name', desc: false });
  const [adding, setAdding] = useState(false);
  const [latestVersion, setLatestVersion] = useState(0);
  const frame = useRef(0);
  const bump = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      setVersion((v) => v + 1);
    });
  };
  const applyPresence = () => {
    presenceTimer.current = undefined;
    for (const [id, p] of presence.current) {
      const cur = devices.current.get(id);
      if (cur) devices.current.set(id, { ...cur, online: p.online, lastSeen: new Date(p.ts).toISOString() });
      else journal.current?.presenceForUnknown(id, p);
    }
    presence.current.clear();
    bump();
  };

  useEffect(() => {
    let closed = false;
    let ws: WebSocket | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let loads = 0;
    const load = async () => {
      const mine = ++loads;
      const j = new LoadJournal();
      journal.current = j;
      try {
        await loadFleetPages(() => devices.current, j, () => {
          setLoaded(true);
          setMembers((v) => v + 1);
          bump();
        }, () => closed || mine !== loads);
      } finally {
        if (journal.current === j) journal.current = undefined;
      }
      setMembers((v) => v + 1);
      bump();
    };
    const connect = async () => {
      try {
        const { FleetEvent } = await loadSchemas();
        ws = await openSocket('/api/events');
        if (closed) return ws.close();
        setLive('live');
        ws.onmessage = (m) => {
          const e = parseFrame(FleetEvent, m.data);
          // Image pulls are the servers form's business, not the fleet's.
          if (!e || e.type === 'container.pull') return;
          if (!e || e.type === 'job.updated') return;
          if (e.type === 'device.deleted') journal.current?.deletedNow(e.deviceId);
          else journal.current?.touch(e.deviceId);
          if (e.type === 'device.online' || e.type === 'device.offline') {
            // The last state per device wins within a batch.
            presence.current.set(e.deviceId, { online: e.type === 'device.online', ts: e.ts });
            presenceTimer.current ??= setTimeout(applyPresence, PRESENCE_BATCH_MS);
            return;
          }
          // Queued presence first, so an edit or a delete is applied after what came before it.
          if (presenceTimer.current) clearTimeout(presenceTimer.current);
          applyPresence();
          if (e.type === 'device.deleted') devices.current.delete(e.deviceId);
          else if (e.type === 'device.registered' || e.type === 'device.updated') {
            // Events carry the plain view; the list's "behind" mark stays while the version does.
            const prev = devices.current.get(e.deviceId);
            devices.current.set(e.deviceId, prev?.agentLatest && prev.agentVersion === e.device.agentVersion ? { ...e.device, agentLatest: prev.agentLatest } : e.device);
          }
          setMembers((v) => v + 1);
          bump();
        };
        ws.onclose = () => {
          if (closed) return;
          setLive('lost');
          retry = setTimeout(() => void connect(), 3000);
        };
        // After subscribing, so no event falls between the list and the socket; the journal keeps
        // what the socket says while the pages arrive.
        await load();
      } catch (err) {
        if (closed) return;
        setLive('lost');
        // A load that failed on an open socket: that socket goes, the retry opens a new one.
        if (ws) {
          ws.onclose = null;
          ws.onmessage = null;
          ws.close();
        }
        if (!loaded) await load().catch(setError);
        retry = setTimeout(() => void connect(), 5000);
      }
    };
    void connect();
    return () => {
      closed = true;
      if (retry) clearTimeout(retry);
      ws?.close();
      cancelAnimationFrame(frame.current);
      if (presenceTimer.current) clearTimeout(presenceTimer.current);
    };
  }, []);

  // Latest CPU and temperature for every device (one request per metric), every 10 s.
  useEffect(() => {
    if (!session.can('telemetry.read')) return;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const [cpu, temp] = await Promise.all(['cpu.usage', 'temp.max'].map((metric) => apiRoute('telemetryLatest', { query: { metric } })));
        const next = new Map<string, Latest>();
        for (const e of cpu?.entries ?? []) if (Object.keys(e.labels).length === 0) next.set(e.deviceId, { cpu: e.value });
        for (const e of temp?.entries ?? []) next.set(e.deviceId, { ...next.get(e.deviceId), temp: e.value });
        latest.current = next;
        setLatestVersion((v) => v + 1);
        bump();
      } catch {
        // the list stays useful without numbers
      }
      timer = setTimeout(poll, 10_000);
    };
    void poll();
    return () => clearTimeout(timer);
  }, []);

  // Each device's VPN state (one request for the whole fleet), every 10 s.
  const [vpn, setVpn] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    if (!session.can('devices.vpn.read')) return;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const hub = await apiRoute('vpnHub');
        setVpn(new Map(hub.enabled ? hub.peers.filter((p) => p.enabled).map((p) => [p.deviceId, p.status?.state ?? 'issued']) : []));
      } catch {
        // the list stays useful without it
      }
      timer = setTimeout(poll, 10_000);
    };
    void poll();
    return () => clearTimeout(timer);
  }, []);

  const tags = useMemo(() => [...new Set([...devices.current.values()].flatMap((d) => d.tags))].sort(), [members]);
  // Presence changes the order only when sorting by it; numbers only when sorting by them.
  const orderDependsOn = sort.key === 'online' || sort.key === 'lastSeen' ? version : sort.key === 'cpu' || sort.key === 'temp' ? latestVersion : 0;
  const order = useMemo(() => {
    const q = query.trim().toLowerCase();
    const list = [...devices.current.values()].filter(
      (d) => (!tag || d.tags.includes(tag)) && (!q || d.name.toLowerCase().includes(q) || d.hostname.toLowerCase().includes(q) || d.profile.includes(q) || d.id.startsWith(q) || d.tags.some((t) => t.toLowerCase().includes(q))),
    );
    const l = latest.current;
    // Each device's sort key once (decorate, sort, undecorate), not twice per comparison.
    const value = (d: DeviceView): string | number => {
      switch (sort.key) {
        case 'name': return d.name.toLowerCase();
        case 'online': return d.online ? 1 : 0;
        case 'profile': return d.profile;
        case 'lastSeen': return d.lastSeen ?? '';
        case 'cpu': return l.get(d.id)?.cpu ?? -1;
        case 'temp': return l.get(d.id)?.temp ?? -1;
      }
    };
    const keyed = list.map((d) => ({ id: d.id, v: value(d), name: d.name }));
    keyed.sort((a, b) => {
      const c = a.v < b.v ? -1 : a.v > b.v ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
      return sort.desc ? -c : c;
    });
    return keyed.map((k) => k.id);
  }, [members, query, tag, sort, orderDependsOn]);

  const online = useMemo(() => {
    let n = 0;
    for (const d of devices.current.values()) if (d.online) n++;
    return n;
  }, [version]);
  const header = (key: SortKey, label: string, cls = '') => (
    <span class={cls} role="columnheader" aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key === 'cpu' || key === 'temp' }))}>
        {label} {sort.key === key ? (sort.desc ? '▼' : '▲') : ''}
      </button>
    </span>
  );

  return (
    <section class="page">
      <div class="row between">
        <h1>Fleet</h1>
        <div class="row">
          <span class="muted" aria-live="polite">
            {devices.current.size} devices, {online} online · <span class={`badge ${live === 'live' ? 'online' : 'offline'}`}>{live === 'live' ? 'live' : live === 'lost' ? 'reconnecting' : 'connecting'}</span>
          </span>
          {session.can('devices.enroll') && (
            <button type="button" class="primary" onClick={() => setAdding(true)}>
              Add device
            </button>
          )}
        </div>
      </div>
      <div class="toolbar" role="search">
        <label class="grow">
          Search
          <input type="search" placeholder="name, hostname, profile, tag…" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
        <label>
          Tag
          <select value={tag} onChange={(e) => setTag(e.currentTarget.value)}>
            <option value="">all tags</option>
            {tags.map((t) => (
              <option value={t} key={t}>{t}</option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={error} />
      {!loaded ? (
        <Spinner label="Loading devices" />
      ) : (
        <div class="fleet" role="table" aria-label="Devices" aria-rowcount={order.length}>
          <div class="fleet-head" role="row">
            {header('name', 'Name')}
            {header('online', 'Status')}
            <span class="wide" role="columnheader">VPN</span>
            <span class="wide" role="columnheader">Tags</span>
            {header('profile', 'Profile', 'wide')}
            <span class="wide" role="columnheader">Agent</span>
            {header('lastSeen', 'Last seen', 'wide')}
            {header('cpu', 'CPU %')}
            {header('temp', 'Temp °C')}
          </div>
          <VirtualRows order={order} devices={devices.current} latest={latest.current} vpn={vpn} version={version} />
          {order.length === 0 && <p class="muted" style={{ padding: '12px' }}>{devices.current.size === 0 ? 'No devices yet: use "Add device" to enroll one.' : 'No device matches.'}</p>}
        </div>
      )}
      {adding && <AddDevice onClose={() => setAdding(false)} />}
    </section>
  );
}

function VirtualRows({ order, devices, latest, vpn, version }: { order: string[]; devices: Map<string, DeviceView>; latest: Map<string, Latest>; vpn: Map<string, string>; version: number }) {
  const viewport = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = viewport.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(scroll / ROW) - OVERSCAN);
  const last = Math.min(order.length, Math.ceil((scroll + height) / ROW) + OVERSCAN);
  const now = Date.now();
  return (
    <div class="fleet-viewport" ref={viewport} onScroll={(e) => setScroll(e.currentTarget.scrollTop)} role="rowgroup" data-version={version}>
      <div style={{ height: `${order.length * ROW}px` }} />
      {order.slice(first, last).map((id, i) => {
        const d = devices.get(id);
        if (!d) return null;
        const l = latest.get(d.id);
        return <Row key={d.id} device={d} top={(first + i) * ROW} index={first + i} cpu={l?.cpu} temp={l?.temp} vpn={vpn.get(d.id)} seen={d.online ? 'now' : ago(d.lastSeen, now)} />;
      })}
    </div>
  );
}

const Row = memo(function Row({ device: d, top, index, cpu, temp, vpn, seen }: { device: DeviceView; top: number; index: number; cpu: number | undefined; temp: number | undefined; vpn: string | undefined; seen: string }) {
  return (
    <a class="fleet-row" role="row" aria-rowindex={index + 1} href={`/devices/${encodeURIComponent(d.id)}`} style={{ top: `${top}px` }} data-device={d.name} data-online={String(d.online)}>
      <span class="name" role="cell" title={d.hostname}>{d.name}</span>
      <span role="cell"><span class={`badge ${d.online ? 'online' : 'offline'}`}>{d.online ? 'online' : 'offline'}</span></span>
      <span class="wide" role="cell">{vpn ? <span class={`badge vpn ${vpn}`} data-testid="fleet-vpn" title={`VPN ${vpn}`}>{vpn}</span> : <span class="muted">–</span>}</span>
      <span class="wide" role="cell">{d.tags.map((t) => <span class="tag" key={t}>{t}</span>)}</span>
      <span class="wide" role="cell">{d.profile}</span>
      <span class="wide muted" role="cell" data-agent-latest={d.agentLatest}>
        {d.agentVersion}
        {d.agentLatest && <span class="badge starting" title={`agent ${d.agentLatest} is published: edgehook agent update ${d.name}`}>behind {d.agentLatest}</span>}
      </span>
      <span class="wide muted" role="cell">{seen}</span>
      <span class="num" role="cell">{num(cpu)}</span>
      <span class="num" role="cell">{num(temp)}</span>
    </a>
  );
});
