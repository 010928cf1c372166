import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeclaredServer, PlanStep, PullProgress } from '@edgehook/shared';
import type { RestRoute, RouteResult } from '@edgehook/shared/rest';
import { apiRoute, loadSchemas, openSocket, parseFrame } from '../lib/api.js';
import { useSession } from '../lib/session.js';
import { ErrorBox, Modal, useAction, useLoad } from '../lib/ui.js';

type Change = RouteResult<RestRoute<'serverPut'>>;

/** The form's text fields; turned into a spec only when every field checks out. */
interface Draft { name: string; image: string; cmd: string; env: string; ports: string; restartPolicy: string; memoryMb: string; cpus: string; desired: string }

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const ENV = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
const PORT = /^(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/;
const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

function draftOf(s?: DeclaredServer): Draft {
  return {
    name: s?.name ?? '',
    image: s?.image ?? '',
    cmd: (s?.cmd ?? []).join('\n'),
    env: Object.entries(s?.env ?? {}).map(([k, v]) => `${k}=${v}`).join('\n'),
    ports: (s?.ports ?? []).map((p) => `${p.host}:${p.container}/${p.protocol}`).join('\n'),
    restartPolicy: s?.restartPolicy ?? 'no',
    memoryMb: s?.memoryBytes ? String(Math.round(s.memoryBytes / 1048576)) : '',
    cpus: s?.cpus ? String(s.cpus) : '',
    desired: s?.desired ?? 'running',
  };
}

/** Field errors, or the spec to send (the server validates again; this saves a round trip). */
function specOf(d: Draft, base: DeclaredServer | undefined): { errors: Partial<Record<keyof Draft, string>>; spec?: Record<string, unknown> } {
  const errors: Partial<Record<keyof Draft, string>> = {};
  if (!NAME.test(d.name)) errors.name = '1-63 of a-z 0-9 _ . - starting with a letter or digit';
  if (!/^\S{1,512}$/.test(d.image)) errors.image = 'an image reference without spaces, like nginx:alpine';
  const env: Record<string, string> = {};
  for (const l of lines(d.env)) {
    const m = ENV.exec(l);
    if (!m) errors.env = `"${l}" is not KEY=VALUE`;
    else env[m[1] ?? ''] = m[2] ?? '';
  }
  const ports: Array<{ host: number; container: number; protocol: string }> = [];
  for (const l of lines(d.ports)) {
    const m = PORT.exec(l);
    const host = Number(m?.[1]);
    const container = Number(m?.[2]);
    if (!m || host < 1 || host > 65535 || container < 1 || container > 65535) errors.ports = `"${l}" is not HOST:CONTAINER[/udp] with ports 1-65535`;
    else ports.push({ host, container, protocol: m[3] ?? 'tcp' });
  }
  const memory = d.memoryMb.trim() === '' ? undefined : Number(d.memoryMb);
  if (memory !== undefined && (!Number.isInteger(memory) || memory < 4)) errors.memoryMb = 'whole megabytes, at least 4';
  const cpus = d.cpus.trim() === '' ? undefined : Number(d.cpus);
  if (cpus !== undefined && !(cpus >= 0.01 && cpus <= 1024)) errors.cpus = 'cores from 0.01 to 1024';
  if (Object.keys(errors).length > 0) return { errors };
  const cmd = lines(d.cmd);
  // Fields the form does not show (volumes, labels, tty ...) are kept from the current spec.
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base ?? {})) if (k !== 'memoryBytes' && k !== 'cpus' && k !== 'cmd') kept[k] = v;
  return {
    errors,
    spec: { ...kept, name: d.name, image: d.image, env, ports, restartPolicy: d.restartPolicy, desired: d.desired, ...(cmd.length ? { cmd } : {}), ...(memory ? { memoryBytes: memory * 1048576 } : {}), ...(cpus ? { cpus } : {}) },
  };
}

/** An image the apply pulls, as the device reports it (the container.pull fleet event). */
interface Pull { progress: PullProgress; text: string }

/**
 * Follows the device's image pulls on /api/events once `watch()` is called (before an apply is sent,
 * so none of its events falls before the socket); closed with the dialog. Progress is a view: a
 * socket that cannot open leaves the apply alone.
 */
function usePulls(deviceId: string): { pulls: Pull[]; watch: () => Promise<void> } {
  const [pulls, setPulls] = useState<Pull[]>([]);
  const socket = useRef<WebSocket | undefined>(undefined);
  const closed = useRef(false);
  useEffect(() => () => {
    closed.current = true;
    socket.current?.close();
  }, []);
  const watch = async () => {
    if (socket.current || closed.current) return;
    try {
      const { FleetEvent, pullText } = await loadSchemas();
      const ws = await openSocket('/api/events');
      if (closed.current) return ws.close();
      socket.current = ws;
      ws.onmessage = (m) => {
        const e = parseFrame(FleetEvent, m.data);
        if (!e || e.type !== 'container.pull' || e.deviceId !== deviceId) return;
        const next = { progress: e.pull, text: pullText(e.pull) };
        setPulls((cur) => (cur.some((x) => x.progress.image === e.pull.image) ? cur.map((x) => (x.progress.image === e.pull.image ? next : x)) : [...cur, next]));
      };
    } catch {
      // no live progress; the apply's answer still shows every step
    }
  };
  return { pulls, watch };
}

function PullBars({ pulls }: { pulls: Pull[] }) {
  if (pulls.length === 0) return null;
  return (
    <section aria-label="Image pulls" class="stack">
      {pulls.map(({ progress: p, text }) => {
        // Bytes when the engine told their total, else layers (Podman sizes small layers only at the end).
        // A fixed scale: preact compares `value` with the element's clamped one, so a changing max can leave it stale.
        const fraction = p.status === 'done' ? 1 : p.bytes.total > 0 ? p.bytes.current / p.bytes.total : p.layers.done / Math.max(p.layers.total, 1);
        return (
          <div key={p.image} class="pull" data-image={p.image} data-status={p.status}>
            <progress aria-label={`pull ${p.image}`} value={Math.round(fraction * 1000)} max={1000} />
            <span class={p.status === 'failed' ? 'field-error' : 'muted'}>{text}</span>
          </div>
        );
      })}
    </section>
  );
}

const stepText = (s: PlanStep) => `${s.action} ${s.server}${s.action === 'recreate' ? ` (${s.reason})` : ''}`;

/** Declared servers of a device: list, and a create/edit form that shows the plan before applying. */
export function DeclaredServers({ deviceId, online, onApplied }: { deviceId: string; online: boolean; onApplied: () => void }) {
  const session = useSession();
  const set = useLoad((s) => apiRoute('serversGet', { params: { id: deviceId }, signal: s }), [deviceId]);
  const [editing, setEditing] = useState<{ server?: DeclaredServer } | null>(null);
  const [removing, setRemoving] = useState<DeclaredServer | null>(null);
  const canControl = session.can('containers.control');
  return (
    <div class="card stack" aria-label="Declared servers">
      <div class="row between">
        <h2>Declared servers</h2>
        {canControl && <button type="button" class="primary" onClick={() => setEditing({})}>New server</button>}
      </div>
      <ErrorBox error={set.error} />
      <ul class="plain">
        {(set.data?.servers ?? []).map((s) => (
          <li key={s.name} class="row" data-server={s.name}>
            <strong>{s.name}</strong> <span class="mono">{s.image}</span> <span class="muted">{s.desired}</span>
            {canControl && <button type="button" onClick={() => setEditing({ server: s })}>Edit</button>}
            {canControl && <button type="button" class="danger" onClick={() => setRemoving(s)}>Remove</button>}
          </li>
        ))}
      </ul>
      {set.data?.servers.length === 0 && <p class="muted">None declared yet.</p>}
      {editing && <ServerDialog deviceId={deviceId} online={online} server={editing.server} onClose={() => setEditing(null)} onApplied={() => { set.reload(); onApplied(); }} />}
      {removing && <ServerDialog deviceId={deviceId} online={online} server={removing} remove onClose={() => setRemoving(null)} onApplied={() => { set.reload(); onApplied(); }} />}
    </div>
  );
}

function ServerDialog(props: { deviceId: string; online: boolean; server: DeclaredServer | undefined; remove?: boolean; onClose: () => void; onApplied: () => void }) {
  const { server } = props;
  const [draft, setDraft] = useState<Draft>(draftOf(server));
  const [errors, setErrors] = useState<Partial<Record<keyof Draft, string>>>({});
  const [plan, setPlan] = useState<Change | null>(null);
  const [done, setDone] = useState<Change | null>(null);
  const action = useAction();
  const { pulls, watch } = usePulls(props.deviceId);
  const title = props.remove ? `Remove server ${server?.name ?? ''}` : server ? `Edit server ${server.name}` : 'New server';

  const send = (dryRun: boolean) => {
    let body: Record<string, unknown> | undefined;
    if (!props.remove) {
      const checked = specOf(draft, server);
      setErrors(checked.errors);
      if (!checked.spec) return;
      body = checked.spec;
    }
    void action.run(async () => {
      const id = props.deviceId;
      if (!dryRun && !props.remove) await watch();
      const query = dryRun ? { dryRun: 'true' } : {};
      let res: Change;
      if (props.remove && server) res = await apiRoute('serverDelete', { params: { id, name: server.name }, query });
      else {
        // The form checked each field; the shared schema checks the whole spec it built.
        const spec = (await loadSchemas()).DeclaredServer.safeParse(body);
        if (!spec.success) throw new Error(`invalid server: ${spec.error.issues.map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`).join('; ')}`);
        res = server ? await apiRoute('serverPut', { params: { id, name: server.name }, query, body: spec.data }) : await apiRoute('serverCreate', { params: { id }, query, body: spec.data });
      }
      if (dryRun) setPlan(res);
      else {
        setDone(res);
        props.onApplied();
      }
    });
  };
  const field = (key: keyof Draft, label: string, opts: { area?: boolean; disabled?: boolean; hint?: string } = {}) => (
    <label>
      {label}
      {opts.area ? (
        <textarea rows={3} value={draft[key]} aria-invalid={errors[key] ? 'true' : undefined} onInput={(e) => { setPlan(null); setDraft({ ...draft, [key]: e.currentTarget.value }); }} />
      ) : (
        <input value={draft[key]} disabled={opts.disabled} aria-invalid={errors[key] ? 'true' : undefined} onInput={(e) => { setPlan(null); setDraft({ ...draft, [key]: e.currentTarget.value }); }} />
      )}
      {errors[key] ? <span class="field-error" role="alert">{errors[key]}</span> : opts.hint && <span class="muted">{opts.hint}</span>}
    </label>
  );

  return (
    <Modal open title={title} onClose={props.onClose}>
      <form class="stack" aria-label={title} onSubmit={(e) => { e.preventDefault(); send(plan === null); }}>
        {!props.remove && (
          <div class="grid2">
            {field('name', 'Name', { disabled: server !== undefined })}
            {field('image', 'Image', { hint: 'e.g. nginx:alpine' })}
            {field('cmd', 'Command (one argument per line)', { area: true })}
            {field('env', 'Environment (KEY=VALUE per line)', { area: true })}
            {field('ports', 'Ports (HOST:CONTAINER[/udp] per line)', { area: true })}
            <label>Restart policy<select value={draft.restartPolicy} onChange={(e) => { setPlan(null); setDraft({ ...draft, restartPolicy: e.currentTarget.value }); }}>{['no', 'always', 'unless-stopped', 'on-failure'].map((p) => <option key={p} value={p}>{p}</option>)}</select></label>
            {field('memoryMb', 'Memory limit (MB)')}
            {field('cpus', 'CPU limit (cores)')}
            <label>Desired state<select value={draft.desired} onChange={(e) => { setPlan(null); setDraft({ ...draft, desired: e.currentTarget.value }); }}><option value="running">running</option><option value="stopped">stopped</option></select></label>
          </div>
        )}
        <ErrorBox error={action.error} />
        {plan && (
          <section aria-label="Plan">
            <h3>Plan</h3>
            {plan.plan === null || plan.plan === undefined ? <p class="muted">{plan.pending ?? 'The device is offline: the change is applied when it reconnects.'}</p> : plan.plan.length === 0 ? <p>Nothing to do.</p> : <ol>{plan.plan.map((s, i) => <li key={i}>{stepText(s)}</li>)}</ol>}
          </section>
        )}
        <PullBars pulls={pulls} />
        {done && (
          <section aria-label="Result" role="status">
            {done.apply ? <ul>{done.apply.steps.map((o, i) => <li key={i}>{o.ok ? 'ok' : 'failed'}: {stepText(o.step)}{o.error ? ` — ${o.error}` : ''}</li>)}</ul> : <p>{done.pending ?? 'Stored.'}</p>}
          </section>
        )}
        <div class="row end">
          {done ? <button type="button" onClick={props.onClose}>Close</button> : plan === null ? <button type="submit" class="primary" disabled={action.busy}>Review plan</button> : <button type="submit" class={props.remove ? 'danger' : 'primary'} disabled={action.busy}>{props.remove ? 'Remove' : 'Apply'}</button>}
        </div>
        {!props.online && <p class="muted">The device is offline: the set is stored and applied when it reconnects.</p>}
      </form>
    </Modal>
  );
}
