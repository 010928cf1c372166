import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeviceView } from '@edgehook/shared';
import { loadSchemas, messageOf, openSocket, parseFrame } from '../lib/api.js';
import { createTerm } from '../lib/term.js';

interface ShellTab {
  key: string;
  session?: string;
}
const storageKey = (deviceId: string) => `edgehook.shells.${deviceId}`;

function loadTabs(deviceId: string): ShellTab[] {
  try {
    const raw: unknown = JSON.parse(sessionStorage.getItem(storageKey(deviceId)) ?? '[]');
    if (Array.isArray(raw)) return raw.filter((t): t is ShellTab => t && typeof t.key === 'string' && (t.session === undefined || typeof t.session === 'string'));
  } catch {
    // fresh start
  }
  return [];
}

/** Shell tabs. Session ids live in sessionStorage, so a reload reattaches each tab with its recent output. */
export function TerminalsTab({ device }: { device: DeviceView }) {
  const [tabs, setTabs] = useState<ShellTab[]>(() => {
    const saved = loadTabs(device.id);
    return saved.length ? saved : [{ key: crypto.randomUUID() }];
  });
  const [active, setActive] = useState(() => tabs[0]?.key ?? '');
  useEffect(() => sessionStorage.setItem(storageKey(device.id), JSON.stringify(tabs)), [tabs, device.id]);

  const add = () => {
    const t = { key: crypto.randomUUID() };
    setTabs((list) => [...list, t]);
    setActive(t.key);
  };
  const remove = (key: string) => {
    setTabs((list) => {
      const rest = list.filter((t) => t.key !== key);
      if (active === key) setActive(rest[rest.length - 1]?.key ?? '');
      return rest;
    });
  };

  return (
    <div>
      <div class="term-tabs" role="tablist" aria-label="Shells">
        {tabs.map((t, i) => (
          <button key={t.key} type="button" role="tab" aria-selected={t.key === active} onClick={() => setActive(t.key)}>
            Shell {i + 1}
          </button>
        ))}
        <button type="button" onClick={add} disabled={!device.online} aria-label="New shell tab">+ New shell</button>
      </div>
      {tabs.length === 0 && <p class="muted">No shell open.</p>}
      {tabs.map((t) => (
        <ShellView
          key={t.key}
          deviceId={device.id}
          session={t.session}
          visible={t.key === active}
          onSession={(session) => setTabs((list) => list.map((x) => (x.key === t.key ? { ...x, session } : x)))}
          onClose={() => remove(t.key)}
        />
      ))}
    </div>
  );
}

function ShellView(props: { deviceId: string; session: string | undefined; visible: boolean; onSession: (s: string | undefined) => void; onClose: () => void }) {
  const host = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState('connecting');
  const sock = useRef<WebSocket | undefined>(undefined);
  const fitRef = useRef<() => void>(() => undefined);
  const initial = useRef(props.session);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    let disposed = false;
    const enc = new TextEncoder();
    const t = createTerm(el, (cols, rows) => send({ type: 'resize', cols, rows }));
    fitRef.current = t.fit;
    const send = (msg: object) => {
      if (sock.current?.readyState === WebSocket.OPEN) sock.current.send(JSON.stringify(msg));
    };
    const start = async (session: string | undefined) => {
      const { ShellServerMessage } = await loadSchemas();
      const ws = await openSocket(`/api/devices/${encodeURIComponent(props.deviceId)}/shell`);
      if (disposed) return ws.close();
      sock.current = ws;
      ws.send(JSON.stringify({ type: 'open', cols: t.term.cols, rows: t.term.rows, ...(session ? { session } : {}) }));
      ws.onmessage = (m) => {
        if (m.data instanceof ArrayBuffer) return t.term.write(new Uint8Array(m.data));
        const msg = parseFrame(ShellServerMessage, m.data);
        if (!msg) return;
        if (msg.type === 'opened') {
          props.onSession(msg.info.sessionId);
          setStatus(msg.info.reattached ? 'reattached' : 'connected');
          t.term.focus();
        } else if (msg.type === 'notice') t.term.writeln(`\r\n\x1b[33m[${msg.message ?? ''}]\x1b[0m`);
        else if (msg.type === 'error') {
          // A session that no longer exists (device restarted): start a fresh shell instead.
          if (session) {
            props.onSession(undefined);
            ws.onclose = null;
            ws.close();
            t.term.writeln(`\x1b[33m[the previous shell is gone (${msg.message ?? ''}); starting a new one]\x1b[0m`);
            void start(undefined).catch((err: unknown) => setStatus(messageOf(err)));
            return;
          }
          t.term.writeln(`\r\n\x1b[31m[${msg.message ?? msg.code ?? 'error'}]\x1b[0m`);
          setStatus(msg.message ?? 'error');
        } else if (msg.type === 'end') {
          setStatus('ended');
          props.onSession(undefined);
          t.term.writeln('\r\n\x1b[90m[shell ended]\x1b[0m');
        }
      };
      ws.onclose = () => {
        if (!disposed) setStatus((s) => (s === 'ended' || s.startsWith('error') ? s : 'disconnected'));
      };
    };
    t.term.onData((d) => {
      if (sock.current?.readyState === WebSocket.OPEN) sock.current.send(enc.encode(d));
    });
    t.term.onBinary((d) => {
      if (sock.current?.readyState === WebSocket.OPEN) sock.current.send(Uint8Array.from(d, (c) => c.charCodeAt(0)));
    });
    start(initial.current).catch((err: unknown) => setStatus(messageOf(err)));
    return () => {
      disposed = true;
      sock.current?.close(); // detaches: the shell stays alive on the device for a reattach
      t.dispose();
    };
  }, [props.deviceId]);

  useEffect(() => {
    if (props.visible) requestAnimationFrame(() => fitRef.current());
  }, [props.visible]);

  const closeShell = () => {
    if (sock.current?.readyState === WebSocket.OPEN) sock.current.send(JSON.stringify({ type: 'close' }));
    props.onSession(undefined);
    props.onClose();
  };

  return (
    <div hidden={!props.visible} class="stack">
      <div class="row between">
        <span class="muted" aria-live="polite" data-testid="shell-status">Shell: {status}</span>
        <button type="button" onClick={closeShell}>Close shell</button>
      </div>
      <div class="term-host" ref={host} aria-label="Terminal" />
    </div>
  );
}
