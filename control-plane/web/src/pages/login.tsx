import { useState } from 'preact/hooks';
import { apiRoute, ApiError } from '../lib/api.js';
import { ErrorBox } from '../lib/ui.js';

export function LoginPage({ onLoggedIn }: { onLoggedIn: () => Promise<void> }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // Shown once the server says the account has a second factor (401 TOTP_REQUIRED).
  const [needsCode, setNeedsCode] = useState(false);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const expired = new URLSearchParams(location.search).has('next');

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await apiRoute('login', { body: { username, password, ...(needsCode && code ? { totp: code.trim() } : {}) }, noSession: true });
      await onLoggedIn();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'TOTP_REQUIRED' && !needsCode) {
        setNeedsCode(true);
        setError(undefined);
      } else setError(err);
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">
          <span class="logo" aria-hidden="true" /> Edgehook
        </h1>
        <p class="muted">{expired ? 'Log in to continue where you were.' : 'Log in to manage your fleet.'}</p>
        <label>
          Username or email
          <input name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} autofocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {needsCode && (
          <label>
            One-time code (or a recovery code)
            <input name="totp" autocomplete="one-time-code" inputmode="numeric" required value={code} onInput={(e) => setCode(e.currentTarget.value)} autofocus />
          </label>
        )}
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
