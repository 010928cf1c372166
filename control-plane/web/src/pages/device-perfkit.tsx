import { useEffect, useRef, useState } from 'preact/hooks';
import type { ConfigsView, DeviceView, InteractionEvent, SessionInfo } from '@edgehook/shared';
import { apiRoute, loadSchemas } from '../lib/api.js';
import { ago } from '../lib/format.js';
import { useSession } from '../lib/session.js';
import { ErrorBox, Spinner, useAction, useLoad } from '../lib/ui.js';

type Entry = ConfigsView['scopes'][number]['entries'][number];

const when = (ms: number): string => ago(new Date(ms).toISOString());
const shown = (v: { value: unknown; version: number } | null): string => (v ? `${JSON.stringify(v.value)} (v${v.version})` : '—');

/** Perfkit session browse: live and recently ended sessions with their traces and images. */
export function SessionsTab({ device }: { device: DeviceView }) {
  const { data, error } = useLoad((signal) => apiRoute('perfkitSessions', { params: { id: device.id }, signal }), [device.id], 3000);
  if (!data) return error ? <ErrorBox error={error} /> : <Spinner label="Loading sessions" />;
  const base = `/devices/${encodeURIComponent(device.id)}`;
  return (
    <div>
      <ErrorBox error={error} />
      {data.sessions.length === 0 ? (
        <p class="muted">No program on this device has registered a session (see docs/perfkit.md: POST /v1/sessions on the agent's local endpoint).</p>
      ) : (
        <table aria-label="Sessions">
          <thead><tr><th>Name</th><th>State</th><th>PID</th><th>Machine</th><th>Started</th><th>Traces</th><th>Images</th><th>Description</th></tr></thead>
          <tbody>
            {data.sessions.map((s) => (
              <tr key={s.id} data-testid={`session-${s.name}`}>
                <td>{s.name}</td>
                <td>{s.endedAt === null ? <span class="badge online">live</span> : <span class="badge offline">{s.endReason ?? 'ended'}</span>}</td>
                <td>{s.pid}</td>
                <td>{s.machine}</td>
                <td>{when(s.startedAt)}</td>
                <td>{s.traces.map((t) => <a key={t.group} href={`${base}/telemetry`} title={t.series.join(', ')}>{t.group} ({t.series.length}) </a>)}</td>
                <td>{s.images.map((i) => <a key={i.name} href={`${base}/images?session=${encodeURIComponent(s.id)}&image=${encodeURIComponent(i.name)}`}>{i.name} </a>)}</td>
                <td>{s.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data.reportedAt !== null && <p class="muted">Reported {when(data.reportedAt)}{data.device.online ? '' : ' (the device is offline: this is its last report)'}.</p>}
    </div>
  );
}

/** One entry's editor: the desired value, sent with the version it was based on (a 409 says someone else changed it). */
function EntryRow({ device, scope, entry, canEdit, onSaved }: { device: DeviceView; scope: string; entry: Entry; canEdit: boolean; onSaved: () => void }) {
  const current = entry.desired?.value ?? entry.default;
  const [draft, setDraft] = useState(String(current));
  const save = useAction();
  useEffect(() => setDraft(String(entry.desired?.value ?? entry.default)), [entry.desired?.version]);
  const valueOf = (): string | number | boolean => (entry.type === 'bool' ? draft === 'true' : entry.type === 'int' || entry.type === 'float' ? Number(draft) : draft);
  const submit = (e: Event) => {
    e.preventDefault();
    void save.run(async () => {
      await apiRoute('perfkitConfigSet', { params: { id: device.id, scope, key: entry.key }, body: { value: valueOf(), version: entry.desired?.version ?? 0 } });
      onSaved();
    });
  };
  const input =
    entry.type === 'bool' || entry.type === 'enum' ? (
      <select aria-label={`${scope}/${entry.key}`} value={draft} onChange={(e) => setDraft(e.currentTarget.value)} disabled={!canEdit}>
        {(entry.type === 'bool' ? ['true', 'false'] : (entry.options ?? [])).map((o) => <option key={o} value={o}>{o}</option>)}
      </select>
    ) : (
      <input aria-label={`${scope}/${entry.key}`} value={draft} onInput={(e) => setDraft(e.currentTarget.value)} disabled={!canEdit} inputMode={entry.type === 'string' ? 'text' : 'decimal'} size={12} />
    );
  return (
    <tr data-testid={`entry-${scope}/${entry.key}`}>
      <td title={entry.description}>{entry.key}</td>
      <td>{entry.type}{entry.min !== undefined || entry.max !== undefined ? ` ${entry.min ?? ''}..${entry.max ?? ''}` : ''}</td>
      <td>{JSON.stringify(entry.default)}</td>
      <td data-testid="desired">{shown(entry.desired)}</td>
      <td data-testid="reported">{shown(entry.reported)}</td>
      <td>{entry.inSync ? <span class="badge online">in sync</span> : <span class="badge offline">pending</span>}</td>
      <td>
        <form class="row" onSubmit={submit}>
          {input}
          {canEdit && <button type="submit" disabled={save.busy}>Set</button>}
        </form>
        <ErrorBox error={save.error} onDismiss={save.clear} />
      </td>
    </tr>
  );
}

/** Configs: every declared scope (the agent's own settings first), desired vs reported with versions. */
export function ConfigsTab({ device }: { device: DeviceView }) {
  const session = useSession();
  const canEdit = session.can('perfkit.configure');
  const { data, error, reload } = useLoad((signal) => apiRoute('perfkitConfigs', { params: { id: device.id }, signal }), [device.id], 3000);
  if (!data) return error ? <ErrorBox error={error} /> : <Spinner label="Loading configs" />;
  const scopes = [...data.scopes].sort((a, b) => (a.scope === 'agent' ? -1 : b.scope === 'agent' ? 1 : a.scope.localeCompare(b.scope)));
  return (
    <div>
      <ErrorBox error={error} />
      <p class="muted">Patch sequence {data.seq}. A value set here is desired; the device reports the value it applied.</p>
      {scopes.length === 0 && <p class="muted">Nothing declared yet.</p>}
      {scopes.map((s) => (
        <section key={s.scope} aria-label={`config ${s.scope}`}>
          <h3 class="row">{s.scope === 'agent' ? 'agent (this agent’s settings)' : s.scope} <span class={`badge ${s.live ? 'online' : 'offline'}`}>{s.live ? 'live' : 'not running'}</span></h3>
          <table aria-label={`Config ${s.scope}`}>
            <thead><tr><th>Key</th><th>Type</th><th>Default</th><th>Desired</th><th>Reported</th><th>State</th><th><span class="muted">Edit</span></th></tr></thead>
            <tbody>
              {s.entries.map((e) => <EntryRow key={e.key} device={device} scope={s.scope} entry={e} canEdit={canEdit} onSaved={reload} />)}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}

/** Interactive images: the latest frame of a session's image, clicks and keys sent back with coordinates in the image. */
export function ImagesTab({ device, query }: { device: DeviceView; query: URLSearchParams }) {
  const session = useSession();
  const canInteract = session.can('perfkit.interact');
  // Each report names the image's newest frame seq; the frame itself comes by seq (cached when known).
  const sessions = useLoad((signal) => apiRoute('perfkitSessions', { params: { id: device.id }, signal }), [device.id], 1000);
  const live = (sessions.data?.sessions ?? []).filter((s) => s.endedAt === null && s.images.length > 0);
  const [pick, setPick] = useState<{ sid: string; image: string } | undefined>(() => {
    const sid = query.get('session');
    const image = query.get('image');
    return sid && image ? { sid, image } : undefined;
  });
  const chosen = pick ?? (live[0]?.images[0] ? { sid: live[0].id, image: live[0].images[0].name } : undefined);
  const current: Pick<SessionInfo, 'name' | 'images'> | undefined = live.find((s) => s.id === chosen?.sid);
  const seq = current?.images.find((i) => i.name === chosen?.image)?.seq;
  const [src, setSrc] = useState<string | undefined>(undefined);
  const [sent, setSent] = useState('');
  const send = useAction();
  const img = useRef<HTMLImageElement>(null);
  useEffect(() => {
    if (!chosen || seq === undefined) return;
    let gone = false;
    // The frame by its seq: a frame the control plane already has is answered from its cache.
    void loadSchemas().then(({ RestRoutes, pathFor }) => {
      if (!gone) setSrc(`${pathFor(RestRoutes.perfkitImage, { id: device.id, sid: chosen.sid, name: chosen.image })}?seq=${seq}`);
    });
    return () => {
      gone = true;
    };
  }, [device.id, chosen?.sid, chosen?.image, seq]);
  const post = (events: InteractionEvent[]) => {
    if (!chosen || !canInteract) return;
    void send.run(async () => {
      const r = await apiRoute('perfkitInteract', { params: { id: device.id, sid: chosen.sid, name: chosen.image }, body: { events } });
      setSent(`${events.map((e) => (e.type === 'mouse' ? `${e.action} at ${e.x},${e.y}` : `key ${e.key}`)).join(', ')} (#${r.lastSeq})`);
      sessions.reload();
    });
  };
  const at = (e: MouseEvent): { x: number; y: number } => {
    const el = img.current;
    if (!el) return { x: 0, y: 0 };
    const box = el.getBoundingClientRect();
    // Pixels of the image itself, whatever size it is shown at.
    const x = Math.round(((e.clientX - box.left) / Math.max(1, box.width)) * (el.naturalWidth || box.width));
    const y = Math.round(((e.clientY - box.top) / Math.max(1, box.height)) * (el.naturalHeight || box.height));
    return { x: Math.max(0, x), y: Math.max(0, y) };
  };
  if (!sessions.data) return sessions.error ? <ErrorBox error={sessions.error} /> : <Spinner label="Loading images" />;
  if (!chosen) return <p class="muted">No live session publishes an image.</p>;
  return (
    <div>
      <ErrorBox error={sessions.error} />
      <label>Image{' '}
        <select aria-label="Image" value={`${chosen.sid}/${chosen.image}`} onChange={(e) => { const [sid = '', image = ''] = e.currentTarget.value.split('/'); setPick({ sid, image }); }}>
          {live.flatMap((s) => s.images.map((i) => <option key={`${s.id}/${i.name}`} value={`${s.id}/${i.name}`}>{s.name} · {i.name}</option>))}
        </select>
      </label>
      <p class="muted" data-testid="frame-info">Frame {seq ?? '—'}{canInteract ? ' · click the image or focus it and type to send events' : ''}</p>
      {src && (
        <img
          ref={img}
          src={src}
          alt={`${current?.name ?? ''} ${chosen.image}`}
          tabIndex={0}
          style={{ maxWidth: '100%', cursor: canInteract ? 'crosshair' : 'default', border: '1px solid #8884' }}
          onClick={(e) => post([{ type: 'mouse', action: 'click', ...at(e), button: e.button === 2 ? 'right' : e.button === 1 ? 'middle' : 'left' }])}
          onKeyDown={(e) => {
            e.preventDefault();
            post([{ type: 'key', key: e.code.slice(0, 32) || e.key.slice(0, 32), down: true }]);
          }}
        />
      )}
      {sent && <p data-testid="sent">Sent: {sent}</p>}
      <ErrorBox error={send.error} onDismiss={send.clear} />
    </div>
  );
}
