import { useState } from 'preact/hooks';
import type { SshKeyView } from '@edgehook/shared';
import { apiRoute } from '../lib/api.js';
import { ago } from '../lib/format.js';
import { useSession } from '../lib/session.js';
import { ErrorBox, useAction, useLoad } from '../lib/ui.js';

/** The signed-in user's own settings: SSH keys for SFTP into servers (docs/sftp.md). */
export function AccountPage() {
  const session = useSession();
  const keys = useLoad((s) => apiRoute('sshKeyList', { signal: s }), []);
  const action = useAction();
  const [form, setForm] = useState({ name: '', publicKey: '' });
  const [problem, setProblem] = useState('');
  return (
    <section class="page stack">
      <h1>Account</h1>
      <div class="card stack" aria-label="SSH keys">
        <h2>SSH keys</h2>
        <p class="muted">For SFTP into a server: <span class="mono">sftp -P 2022 -o User={session.user.username}.&lt;server&gt;@&lt;device&gt; &lt;control plane&gt;</span></p>
        <ErrorBox error={keys.error ?? action.error} />
        <table aria-label="Your SSH keys">
          <thead><tr><th>Name</th><th>Type</th><th>Fingerprint</th><th>Added</th><th><span class="muted">Actions</span></th></tr></thead>
          <tbody>
            {(keys.data ?? []).map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td><td>{k.type}</td><td class="mono">{k.fingerprint}</td><td class="muted">{ago(k.createdAt)}</td>
                <td><button type="button" class="danger" disabled={action.busy} onClick={() => void action.run(async () => { await apiRoute('sshKeyDelete', { params: { keyId: k.id } }); keys.reload(); })}>Remove</button></td>
              </tr>
            ))}
          </tbody>
        </table>
        {keys.data?.length === 0 && <p class="muted">No keys yet.</p>}
        <form class="stack" aria-label="Add SSH key" onSubmit={(e) => {
          e.preventDefault();
          const line = form.publicKey.trim();
          // The server checks the key; this only catches the classic mistake early.
          if (/PRIVATE KEY/.test(line)) return setProblem('That is a private key: paste the .pub file instead.');
          if (!/^(ssh-|ecdsa-)\S+ \S+/.test(line)) return setProblem('Paste one public key line, like "ssh-ed25519 AAAA... you@host".');
          setProblem('');
          void action.run(async () => { await apiRoute('sshKeyAdd', { body: { publicKey: line, ...(form.name ? { name: form.name } : {}) } }); setForm({ name: '', publicKey: '' }); keys.reload(); });
        }}>
          <label>Name (optional)<input value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} /></label>
          <label>Public key<textarea rows={3} value={form.publicKey} aria-invalid={problem ? 'true' : undefined} onInput={(e) => setForm({ ...form, publicKey: e.currentTarget.value })} /></label>
          {problem && <span class="field-error" role="alert">{problem}</span>}
          <div class="row"><button type="submit" class="primary" disabled={action.busy}>Add key</button></div>
        </form>
      </div>
    </section>
  );
}
