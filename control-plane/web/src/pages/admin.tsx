import { useState } from 'preact/hooks';
import type { EnrollmentTokenView, RoleView, TotpActivated, TotpEnrollment, UserView } from '@edgehook/shared';
import { apiRoute } from '../lib/api.js';
import { ago } from '../lib/format.js';
import { useSession } from '../lib/session.js';
import { ErrorBox, NoPermission, useAction, useDialogs, useLoad } from '../lib/ui.js';
import { AddDevice } from './add-device.js';
import { AuditLog } from './admin-audit.js';
import { Avatar, AvatarPicker, removeAvatar } from '../lib/avatar.js';

export function AdminPage({ section }: { section: string }) {
  const session = useSession();
  const sections = [
    { id: 'users', label: 'Users', ok: session.can('users.read') },
    { id: 'roles', label: 'Roles', ok: session.can('users.read') },
    { id: 'tokens', label: 'Enrollment tokens', ok: session.can('devices.enroll') },
    { id: 'account', label: 'My account', ok: true },
    { id: 'audit', label: 'Audit log', ok: session.can('audit.read') },
  ];
  const current = sections.find((s) => s.id === section) ?? sections[0];
  return (
    <section class="page">
      <h1>Admin</h1>
      <nav class="tabs" role="tablist" aria-label="Admin sections">
        {sections.filter((s) => s.ok).map((s) => (
          <a key={s.id} role="tab" href={`/admin/${s.id}`} aria-selected={s.id === current?.id ? 'true' : 'false'}>{s.label}</a>
        ))}
      </nav>
      {!current?.ok ? <NoPermission what="see this section" permission={current?.id === 'tokens' ? 'devices.enroll' : current?.id === 'audit' ? 'audit.read' : 'users.read'} /> : current.id === 'users' ? <Users /> : current.id === 'roles' ? <Roles /> : current.id === 'account' ? <Account /> : current.id === 'audit' ? <AuditLog /> : <Tokens />}
    </section>
  );
}

function Users() {
  const session = useSession();
  const users = useLoad((s) => apiRoute('userList', { signal: s }), []);
  const roles = useLoad((s) => apiRoute('roleList', { signal: s }), []);
  const action = useAction();
  const [form, setForm] = useState({ username: '', password: '', roleName: 'viewer' });
  const [picError, setPicError] = useState<unknown>(null);
  const admin = session.can('users.admin');
  const dialogs = useDialogs();
  return (
    <div class="stack">
      <ErrorBox error={users.error ?? action.error ?? picError} onDismiss={() => setPicError(null)} />
      <div class="card" style={{ overflowX: 'auto' }}>
        <table aria-label="Users">
          <thead><tr><th><span class="muted">Picture</span></th><th>Username</th><th>Email</th><th>Role</th><th>Created</th>{admin && <th><span class="muted">Actions</span></th>}</tr></thead>
          <tbody>
            {(users.data ?? []).map((u) => (
              <tr key={u.id}>
                <td><Avatar userId={u.id} name={u.username} size={32} /></td>
                <td>{u.username}</td><td>{u.email ?? '–'}</td><td>{u.role.name}</td><td class="muted">{ago(u.createdAt)}</td>
                {admin && (
                  <td class="row">
                    <select aria-label={`Role of ${u.username}`} value={u.role.id} disabled={action.busy || u.id === session.user.id} onChange={(e) => { const roleId = e.currentTarget.value; void action.run(async () => { await apiRoute('userUpdate', { params: { id: u.id }, body: { roleId } }); users.reload(); }); }}>
                      {(roles.data ?? []).map((r) => <option key={r.id} value={r.id}>{r.name}</option>)}
                    </select>
                    <AvatarPicker userId={u.id} label={`Picture for ${u.username}`} onError={(e) => setPicError(e)} />
                    <button type="button" disabled={action.busy} onClick={() => void action.run(() => removeAvatar(u.id))}>Remove picture</button>
                    <button type="button" class="danger" disabled={action.busy || u.id === session.user.id} onClick={async () => { if (await dialogs.confirm({ title: `Delete user ${u.username}?`, message: 'Their sessions end and they can no longer log in.', confirmLabel: 'Delete user', danger: true })) void action.run(async () => { await apiRoute('userDelete', { params: { id: u.id } }); users.reload(); }); }}>Delete</button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {admin && (
        <form class="card row" aria-label="Create user" onSubmit={(e) => { e.preventDefault(); void action.run(async () => { await apiRoute('userCreate', { body: form }); setForm({ ...form, username: '', password: '' }); users.reload(); }); }}>
          <label>Username<input required value={form.username} onInput={(e) => setForm({ ...form, username: e.currentTarget.value })} /></label>
          <label>Password<input required type="password" minLength={8} autocomplete="new-password" value={form.password} onInput={(e) => setForm({ ...form, password: e.currentTarget.value })} /></label>
          <label>Role<select value={form.roleName} onChange={(e) => setForm({ ...form, roleName: e.currentTarget.value })}>{(roles.data ?? []).map((r) => <option key={r.id}>{r.name}</option>)}</select></label>
          <button type="submit" class="primary" style={{ alignSelf: 'end' }} disabled={action.busy}>Create user</button>
        </form>
      )}
      {dialogs.element}
    </div>
  );
}

function Roles() {
  const session = useSession();
  const roles = useLoad((s) => apiRoute('roleList', { signal: s }), []);
  const action = useAction();
  const [name, setName] = useState('');
  const [perms, setPerms] = useState('devices.read');
  const admin = session.can('users.admin');
  const dialogs = useDialogs();
  const split = (s: string) => s.split(/[\s,]+/).filter(Boolean);
  return (
    <div class="stack">
      <ErrorBox error={roles.error ?? action.error} />
      <div class="card" style={{ overflowX: 'auto' }}>
        <table aria-label="Roles">
          <thead><tr><th>Role</th><th>Permissions</th>{admin && <th><span class="muted">Actions</span></th>}</tr></thead>
          <tbody>
            {(roles.data ?? []).map((r) => (
              <tr key={r.id}>
                <td>{r.name}{r.builtin && <span class="tag">built-in</span>}</td>
                <td>{r.permissions.map((p) => <code key={p} style={{ marginRight: '4px' }}>{p}</code>)}</td>
                {admin && (
                  <td class="row">
                    {!r.builtin && <button type="button" onClick={async () => { const next = await dialogs.prompt({ title: `Edit role ${r.name}`, label: 'Permissions (comma separated)', initial: r.permissions.join(', '), confirmLabel: 'Save' }); if (next !== null) void action.run(async () => { await apiRoute('roleUpdate', { params: { id: r.id }, body: { permissions: split(next) } }); roles.reload(); }); }}>Edit</button>}
                    {!r.builtin && <button type="button" class="danger" onClick={async () => { if (await dialogs.confirm({ title: `Delete role ${r.name}?`, confirmLabel: 'Delete role', danger: true })) void action.run(async () => { await apiRoute('roleDelete', { params: { id: r.id } }); roles.reload(); }); }}>Delete</button>}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {admin && (
        <form class="card row" aria-label="Create role" onSubmit={(e) => { e.preventDefault(); void action.run(async () => { await apiRoute('roleCreate', { body: { name, permissions: split(perms) } }); setName(''); roles.reload(); }); }}>
          <label>Name<input required value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="operators" /></label>
          <label style={{ flex: 1 }}>Permissions<input value={perms} onInput={(e) => setPerms(e.currentTarget.value)} placeholder="devices.read, devices.shell, telemetry.read" /></label>
          <button type="submit" class="primary" style={{ alignSelf: 'end' }} disabled={action.busy}>Create role</button>
        </form>
      )}
      {dialogs.element}
    </div>
  );
}

function Tokens() {
  const tokens = useLoad((s) => apiRoute('enrollmentTokenList', { signal: s }), []);
  const action = useAction();
  const [adding, setAdding] = useState(false);
  const now = Date.now();
  return (
    <div class="stack">
      <div class="row end"><button type="button" class="primary" onClick={() => setAdding(true)}>New token</button></div>
      <ErrorBox error={tokens.error ?? action.error} />
      <div class="card" style={{ overflowX: 'auto' }}>
        <table aria-label="Enrollment tokens">
          <thead><tr><th>Created</th><th>Expires</th><th>Uses</th><th>Tags</th><th>State</th><th><span class="muted">Actions</span></th></tr></thead>
          <tbody>
            {(tokens.data ?? []).map((t) => {
              const expired = Date.parse(t.expiresAt) < now;
              const usable = !t.revoked && !expired && t.uses < t.maxUses;
              return (
                <tr key={t.id}>
                  <td>{new Date(t.createdAt).toLocaleString()}</td>
                  <td>{new Date(t.expiresAt).toLocaleString()}</td>
                  <td class="num">{t.uses} / {t.maxUses}</td>
                  <td>{t.tags.map((x) => <span class="tag" key={x}>{x}</span>)}</td>
                  <td>{t.revoked ? 'revoked' : expired ? 'expired' : t.uses >= t.maxUses ? 'used up' : 'active'}</td>
                  <td>{usable && <button type="button" class="danger" disabled={action.busy} onClick={() => void action.run(async () => { await apiRoute('enrollmentTokenDelete', { params: { id: t.id } }); tokens.reload(); })}>Revoke</button>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {tokens.data?.length === 0 && <p class="muted">No tokens yet.</p>}
      </div>
      {adding && <AddDevice onClose={() => { setAdding(false); tokens.reload(); }} />}
    </div>
  );
}

/** The caller's own second factor (enroll, verify, turn off) and password change (needs the current one). */
function Account() {
  const session = useSession();
  const me = useLoad((s) => apiRoute('userGet', { params: { id: session.user.id }, signal: s }), []);
  const action = useAction();
  const [enrollment, setEnrollment] = useState<TotpEnrollment | undefined>(undefined);
  const [code, setCode] = useState('');
  const [recovery, setRecovery] = useState<string[] | undefined>(undefined);
  const [pw, setPw] = useState({ currentPassword: '', password: '' });
  const [changed, setChanged] = useState(false);
  const enabled = me.data?.totp?.enabled === true;
  return (
    <div class="stack">
      <section class="card" aria-label="Two-factor authentication">
        <h2>Two-factor authentication</h2>
        <p class="muted">{enabled ? `On. ${me.data?.totp?.recoveryCodesLeft ?? 0} recovery codes left.` : me.data?.totp?.requiredByRole ? 'Your role requires it: enroll to use your permissions.' : 'Off.'}</p>
        {recovery && (
          <div>
            <p>Recovery codes (each works once; they are not shown again):</p>
            <pre class="recovery-codes">{recovery.join('\n')}</pre>
          </div>
        )}
        {!enabled && !enrollment && (
          <button type="button" disabled={action.busy} onClick={() => void action.run(async () => setEnrollment(await apiRoute('totpEnroll')))}>
            Set up an authenticator app
          </button>
        )}
        {enrollment && (
          <form class="row" aria-label="Verify authenticator" onSubmit={(e) => { e.preventDefault(); void action.run(async () => { const r = await apiRoute('totpVerify', { body: { code: code.trim() } }); setRecovery(r.recoveryCodes); setEnrollment(undefined); setCode(''); me.reload(); }); }}>
            <p>Add this key to your authenticator app: <code>{enrollment.secret}</code> (or the URI <code>{enrollment.uri}</code>), then enter the code it shows.</p>
            <input name="code" aria-label="Code from the app" autocomplete="one-time-code" inputmode="numeric" required value={code} onInput={(e) => setCode(e.currentTarget.value)} />
            <button type="submit" class="primary" disabled={action.busy}>Turn on</button>
          </form>
        )}
        {enabled && (
          <form class="row" aria-label="Turn off two-factor" onSubmit={(e) => { e.preventDefault(); void action.run(async () => { await apiRoute('totpDisable', { body: { code: code.trim() } }); setCode(''); setRecovery(undefined); me.reload(); }); }}>
            <input name="code" aria-label="Current code or recovery code" autocomplete="one-time-code" required value={code} onInput={(e) => setCode(e.currentTarget.value)} />
            <button type="submit" disabled={action.busy}>Turn off</button>
          </form>
        )}
      </section>
      <form class="card" aria-label="Change password" onSubmit={(e) => { e.preventDefault(); void action.run(async () => { await apiRoute('userUpdate', { params: { id: session.user.id }, body: pw }); setChanged(true); await session.logout(); }); }}>
        <h2>Change password</h2>
        <input type="password" name="currentPassword" aria-label="Current password" autocomplete="current-password" required value={pw.currentPassword} onInput={(e) => setPw({ ...pw, currentPassword: e.currentTarget.value })} />
        <input type="password" name="password" aria-label="New password" autocomplete="new-password" minLength={8} required value={pw.password} onInput={(e) => setPw({ ...pw, password: e.currentTarget.value })} />
        <button type="submit" disabled={action.busy}>Change password</button>
        {changed && <p class="muted">Changed: log in again.</p>}
      </form>
      <ErrorBox error={action.error} />
    </div>
  );
}
