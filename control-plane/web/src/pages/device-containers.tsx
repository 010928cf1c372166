import { useEffect, useRef, useState } from 'preact/hooks';
import type { ContainerInfo, DeviceView } from '@edgehook/shared';
import { apiRoute, ApiError, loadSchemas, messageOf, parseFrame, wsUrl } from '../lib/api.js';
import { bytes, duration, num } from '../lib/format.js';
import { useSession } from '../lib/session.js';
import { Confirm, ErrorBox, Spinner, useAction, useLoad } from '../lib/ui.js';
import { FilesPanel } from './container-files.js';
import { DeclaredServers } from './server-form.js';

type Power = 'start' | 'stop' | 'restart' | 'kill';

export function ContainersTab({ device }: { device: DeviceView }) {
  const session = useSession();
  const engine = useLoad((s) => (device.online ? apiRoute('engine', { params: { id: device.id }, signal: s }) : Promise.resolve(undefined)), [device.id, device.online]);
  const list = useLoad((s) => (device.online && engine.data ? apiRoute('containerList', { params: { id: device.id }, signal: s }) : Promise.resolve(undefined)), [device.id, device.online, engine.data], 5000);
  const power = useAction();
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [removing, setRemoving] = useState<ContainerInfo | undefined>(undefined);
  const canControl = session.can('containers.control');

  if (!device.online) return <p class="muted">Containers are listed while the device is online.</p>;
  if (engine.error) {
    const e = engine.error;
    const why = e instanceof ApiError && e.code === 'ENGINE_UNAVAILABLE' ? `No container engine on this device: ${e.message}` : e instanceof ApiError && e.status === 404 && e.message.startsWith('no route') ? 'This control plane has no containers API.' : messageOf(e);
    return <p class="notice" role="note">{why}</p>;
  }
  if (!engine.data) return <Spinner label="Looking for a container engine" />;
  const sel = list.data?.find((c) => c.id === selected || c.name === selected);
  const act = (c: ContainerInfo, action: Power) => void power.run(async () => { await apiRoute('containerPower', { params: { id: device.id, ref: c.name }, body: { action } }); list.reload(); });

  return (
    <div class="stack">
      <p class="muted">{engine.data.name} {engine.data.version} (API {engine.data.apiVersion})</p>
      <ErrorBox error={list.error ?? power.error} />
      <div class="card" style={{ overflowX: 'auto' }}>
        <table aria-label="Containers">
          <thead><tr><th>Name</th><th>Image</th><th>State</th><th>Status</th><th>Ports</th><th><span class="muted">Actions</span></th></tr></thead>
          <tbody>
            {(list.data ?? []).map((c) => (
              <tr key={c.id} data-container={c.name} aria-selected={c.id === sel?.id}>
                <td><button type="button" class="link" style={{ fontSize: '1em' }} onClick={() => setSelected(c.id)}>{c.name}</button>{c.managed && <span class="tag">managed</span>}</td>
                <td class="mono">{c.image}</td>
                <td><span class={`badge ${c.power}`} data-testid="container-power">{c.power}</span></td>
                <td class="muted">{c.status}</td>
                <td>{c.ports.map((p) => `${p.host ?? ''}${p.host ? '→' : ''}${p.container}/${p.protocol}`).join(', ') || '–'}</td>
                <td class="row">
                  {canControl && (
                    <>
                      <button type="button" disabled={power.busy || c.power === 'running'} onClick={() => act(c, 'start')}>Start</button>
                      <button type="button" disabled={power.busy || c.power === 'offline'} onClick={() => act(c, 'stop')}>Stop</button>
                      <button type="button" disabled={power.busy} onClick={() => act(c, 'restart')}>Restart</button>
                      <button type="button" disabled={power.busy || c.power === 'offline'} onClick={() => act(c, 'kill')}>Kill</button>
                      <button type="button" class="danger" disabled={power.busy} onClick={() => setRemoving(c)}>Delete</button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data?.length === 0 && <p class="muted">No containers.</p>}
        {power.busy && <p role="status">Working…</p>}
      </div>
      <Confirm open={removing !== undefined} title={`Delete ${removing?.name ?? ''}?`} confirmLabel="Delete" danger onCancel={() => setRemoving(undefined)}
        onConfirm={() => { const c = removing; setRemoving(undefined); if (c) void power.run(async () => { await apiRoute('containerRemove', { params: { id: device.id, ref: c.name } }); list.reload(); }); }}>
        <p>The container is removed from the device (its server files stay).</p>
      </Confirm>
      {sel && <ContainerDetail key={sel.id} deviceId={device.id} container={sel} />}
      <DeclaredServers deviceId={device.id} online={device.online} onApplied={() => list.reload()} />
    </div>
  );
}

function ContainerDetail({ deviceId, container }: { deviceId: string; container: ContainerInfo }) {
  const session = useSession();
  const [view, setView] = useState<'console' | 'logs' | 'files'>(session.can('containers.console') ? 'console' : 'logs');
  const stats = useLoad((s) => apiRoute('containerStats', { params: { id: deviceId, ref: container.name }, signal: s }), [container.id], 5000);
  const st = stats.data;
  return (
    <section class="card stack" aria-label={`Container ${container.name}`}>
      <div class="row between">
        <h2>{container.name}</h2>
        <span class="muted num" data-testid="container-stats">
          {st ? `CPU ${num(st.cpu_absolute)}% · memory ${bytes(st.memory_bytes)} / ${bytes(st.memory_limit_bytes)} · net ↓${bytes(st.network.rx_bytes)} ↑${bytes(st.network.tx_bytes)} · up ${duration(st.uptime / 1000)}` : stats.error ? messageOf(stats.error) : ''}
        </span>
      </div>
      <div class="tabs" role="tablist">
        {session.can('containers.console') && <button type="button" role="tab" aria-selected={view === 'console'} onClick={() => setView('console')}>Console</button>}
        <button type="button" role="tab" aria-selected={view === 'logs'} onClick={() => setView('logs')}>Logs</button>
        {session.can('containers.files') && container.server && <button type="button" role="tab" aria-selected={view === 'files'} onClick={() => setView('files')}>Files</button>}
      </div>
      {view === 'console' && <ConsolePanel deviceId={deviceId} container={container} />}
      {view === 'logs' && <LogsPanel deviceId={deviceId} container={container} />}
      {view === 'files' && container.server && <FilesPanel deviceId={deviceId} server={container.server} />}
    </section>
  );
}

function LogsPanel({ deviceId, container }: { deviceId: string; container: ContainerInfo }) {
  const logs = useLoad((s) => apiRoute('containerLogs', { params: { id: deviceId, ref: container.name }, query: { tail: 200 }, signal: s }), [container.id]);
  // The newest line is the one that matters: keep the pane scrolled to the bottom on each load.
  const pane = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const el = pane.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [logs.data]);
  return (
    <div class="stack">
      <div class="row"><button type="button" onClick={logs.reload}>Refresh</button>{logs.data?.truncated && <span class="muted">older lines not shown</span>}</div>
      <ErrorBox error={logs.error} />
      <pre class="output" ref={pane} aria-label="Logs" data-testid="container-logs">{logs.data?.lines.map((l) => (l.stream === 'stderr' ? `! ${l.line}` : l.line)).join('\n')}</pre>
    </div>
  );
}

/** Wings' console protocol: `auth` with a panel token, then console output, status and stats events. */
function ConsolePanel({ deviceId, container }: { deviceId: string; container: ContainerInfo }) {
  const [lines, setLines] = useState<string[]>([]);
  const [state, setState] = useState(container.power);
  const [status, setStatus] = useState('connecting');
  const [command, setCommand] = useState('');
  const sock = useRef<WebSocket | undefined>(undefined);
  const out = useRef<HTMLPreElement>(null);
  useEffect(() => {
    let closed = false;
    const creds = () => apiRoute('consoleToken', { params: { id: deviceId, ref: container.name } });
    const send = (event: string, args: string[] = []) => sock.current?.readyState === WebSocket.OPEN && sock.current.send(JSON.stringify({ event, args }));
    const append = (l: string) => setLines((ls) => (ls.length > 2000 ? [...ls.slice(-1500), l] : [...ls, l]));
    void Promise.all([creds(), loadSchemas()]).then(([{ data }, { PowerState, WingsFrame }]) => {
      if (closed) return;
      const ws = new WebSocket(data.socket.startsWith('ws') ? data.socket : wsUrl(data.socket));
      sock.current = ws;
      ws.onopen = () => send('auth', [data.token]);
      ws.onmessage = (m) => {
        const f = parseFrame(WingsFrame, m.data);
        if (!f) return;
        const a0 = f.args?.[0] ?? '';
        if (f.event === 'auth success') {
          setStatus('connected');
          send('send logs');
        } else if (f.event === 'console output') append(a0);
        else if (f.event === 'status') {
          const power = PowerState.safeParse(a0);
          if (power.success) setState(power.data);
        }
        else if (f.event === 'token expiring') void creds().then((c) => send('auth', [c.data.token])).catch(() => undefined);
        else if (f.event === 'token expired') setStatus('token expired: reopen the console');
        else if (f.event === 'daemon error' || f.event === 'jwt error') append(`[${f.event}: ${a0}]`);
      };
      ws.onclose = () => !closed && setStatus('disconnected');
    }).catch((err: unknown) => setStatus(messageOf(err)));
    return () => {
      closed = true;
      sock.current?.close();
    };
  }, [container.id]);
  useEffect(() => {
    const el = out.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  const send = (event: string, args: string[]) => sock.current?.readyState === WebSocket.OPEN && sock.current.send(JSON.stringify({ event, args }));
  return (
    <div class="stack">
      <div class="row"><span class={`badge ${state}`}>{state}</span><span class="muted" aria-live="polite">{status}</span></div>
      <pre class="output" ref={out} aria-label="Console output" data-testid="container-console">{lines.join('\n')}</pre>
      <form class="row" onSubmit={(e) => { e.preventDefault(); if (command) send('send command', [command]); setCommand(''); }}>
        <label class="grow" style={{ flex: 1 }}>
          Command
          <input value={command} onInput={(e) => setCommand(e.currentTarget.value)} disabled={status !== 'connected'} />
        </label>
        <button type="submit" style={{ alignSelf: 'end' }} disabled={status !== 'connected'}>Send</button>
      </form>
    </div>
  );
}
