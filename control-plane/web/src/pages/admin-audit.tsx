import { useState } from 'preact/hooks';
import type { AuditEntry } from '@edgehook/shared';
import { apiRoute } from '../lib/api.js';
import { ago } from '../lib/format.js';
import { ErrorBox, useLoad } from '../lib/ui.js';

interface Filters {
  actor: string;
  action: string;
  device: string;
  result: string;
}

const EMPTY: Filters = { actor: '', action: '', device: '', result: '' };

function queryOf(f: Filters, before: string | null) {
  const given = (v: string) => v.trim() || undefined;
  return { actor: given(f.actor), action: given(f.action), device: given(f.device), result: given(f.result), before: before ?? undefined, limit: 100 };
}

/** Admin > Audit log: operator actions, newest first, filtered, one page of 100 at a time. */
export function AuditLog() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  // Cursors of the pages before the current one, so "Newer" can go back.
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const before = cursors[cursors.length - 1] ?? null;
  const page = useLoad((s) => apiRoute('audit', { query: queryOf(filters, before), signal: s }), [filters, before]);
  const entries: AuditEntry[] = page.data?.entries ?? [];
  const field = (name: keyof Filters, label: string, placeholder: string) => (
    <label>{label}<input value={draft[name]} placeholder={placeholder} onInput={(e) => setDraft({ ...draft, [name]: e.currentTarget.value })} /></label>
  );
  return (
    <div class="stack">
      <form class="card row" aria-label="Filter the audit log" onSubmit={(e) => { e.preventDefault(); setFilters(draft); setCursors([null]); }}>
        {field('actor', 'User', 'admin')}
        {field('action', 'Action', 'hardware.*')}
        {field('device', 'Device id', '')}
        <label>Result<select value={draft.result} onChange={(e) => setDraft({ ...draft, result: e.currentTarget.value })}>
          <option value="">any</option><option value="ok">ok</option><option value="denied">denied</option><option value="error">error</option>
        </select></label>
        <button type="submit" class="primary" style={{ alignSelf: 'end' }}>Filter</button>
      </form>
      <ErrorBox error={page.error} />
      <div class="card" style={{ overflowX: 'auto' }}>
        <table aria-label="Audit log">
          <thead><tr><th>When</th><th>User</th><th>From</th><th>Action</th><th>Device</th><th>Target</th><th>Result</th></tr></thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td title={e.at}>{ago(e.at)}</td>
                <td>{e.actor ?? '–'}</td>
                <td class="muted">{e.source ?? '–'}</td>
                <td><code>{e.action}</code></td>
                <td>{e.deviceId ? <a href={`/devices/${encodeURIComponent(e.deviceId)}`}>{e.deviceId.slice(0, 8)}</a> : '–'}</td>
                <td class="muted">{e.target ?? '–'}</td>
                <td class={e.result === 'ok' ? '' : 'danger-text'}>{e.result}{e.status !== null ? ` (${e.status})` : ''}</td>
              </tr>
            ))}
            {!page.loading && entries.length === 0 && <tr><td colSpan={7} class="muted">No entries match.</td></tr>}
          </tbody>
        </table>
      </div>
      <div class="row">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>Newer</button>
        <button type="button" disabled={!page.data?.next} onClick={() => page.data?.next && setCursors([...cursors, page.data.next])}>Older</button>
        <button type="button" onClick={() => page.reload()}>Refresh</button>
      </div>
    </div>
  );
}
