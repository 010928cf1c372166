import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { UserView } from '@edgehook/shared';
import { apiRoute, setSessionLostHandler, ApiError, messageOf } from './lib/api.js';
import { Avatar, AvatarPicker } from './lib/avatar.js';
import { navigate, onLinkClick, useLocation } from './lib/router.js';
import { SessionContext, sessionOf } from './lib/session.js';
import { ErrorBox, Spinner } from './lib/ui.js';
import { LoginPage } from './pages/login.js';
import { FleetPage } from './pages/fleet.js';
import { DevicePage } from './pages/device.js';
import { AdminPage } from './pages/admin.js';
import { AccountPage } from './pages/account.js';
import { JobPage, JobsPage } from './pages/jobs.js';
import './styles.css';

type Boot = { state: 'checking' } | { state: 'anonymous' } | { state: 'user'; user: UserView } | { state: 'error'; error: unknown };

function loginTarget(): string {
  const here = location.pathname + location.search;
  return here.startsWith('/login') ? here : `/login?next=${encodeURIComponent(here)}`;
}

/** Where to go after logging in: the route kept in ?next=, only ever a path on this site. */
function safeNext(): string {
  const next = new URLSearchParams(location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/';
}

function App() {
  const path = useLocation();
  const [boot, setBoot] = useState<Boot>({ state: 'checking' });
  const [avatarError, setAvatarError] = useState('');

  const check = async () => {
    try {
      const res = await apiRoute('check');
      setBoot({ state: 'user', user: res.user });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      setBoot({ state: 'error', error: err });
    }
  };

  useEffect(() => {
    setSessionLostHandler(() => {
      setBoot({ state: 'anonymous' });
      navigate(loginTarget(), true);
    });
    void check();
  }, []);

  const session = useMemo(
    () =>
      boot.state === 'user'
        ? sessionOf(boot.user, async () => {
            await apiRoute('logout').catch(() => undefined);
            setBoot({ state: 'anonymous' });
            navigate('/login', true);
          })
        : null,
    [boot],
  );

  if (boot.state === 'checking') return <main class="center"><Spinner label="Connecting" /></main>;
  if (boot.state === 'error') return <main class="center"><ErrorBox error={boot.error} /><button onClick={() => location.reload()}>Retry</button></main>;
  if (boot.state === 'anonymous' || !session || path.startsWith('/login')) {
    if (session && path.startsWith('/login')) {
      navigate(safeNext(), true);
      return null;
    }
    return (
      <LoginPage
        onLoggedIn={async () => {
          // Read before check(): the re-render it causes may already leave /login.
          const next = safeNext();
          await check();
          navigate(next, true);
        }}
      />
    );
  }

  const pathname = path.split('?')[0] ?? '/';
  const device = /^\/devices\/([^/]+)(?:\/([a-z]+))?/.exec(pathname);
  let page;
  if (device?.[1]) page = <DevicePage id={decodeURIComponent(device[1])} tab={device[2] ?? 'overview'} />;
  else if (pathname.startsWith('/admin')) page = <AdminPage section={pathname.split('/')[2] ?? 'users'} />;
  else if (pathname === '/account') page = <AccountPage />;
  else if (pathname === '/jobs') page = <JobsPage />;
  else if (pathname.startsWith('/jobs/')) page = <JobPage id={decodeURIComponent(pathname.slice('/jobs/'.length))} />;
  else if (pathname === '/' || pathname === '/devices') page = <FleetPage />;
  else page = <section class="page"><h1>Not found</h1><p>No page at {pathname}. <a href="/">Back to the fleet</a>.</p></section>;

  return (
    <SessionContext.Provider value={session}>
      <div class="shell" onClick={onLinkClick}>
        <a class="skip" href="#main">Skip to content</a>
        <header class="topbar">
          <a href="/" class="brand" aria-label="Edgehook home">
            <span class="logo" aria-hidden="true" /> Edgehook
          </a>
          <nav aria-label="Main">
            <a href="/" aria-current={pathname === '/' || pathname.startsWith('/devices') ? 'page' : undefined}>Fleet</a>
            {session.can('jobs.read') && <a href="/jobs" aria-current={pathname.startsWith('/jobs') ? 'page' : undefined}>Jobs</a>}
            {(session.can('users.read') || session.can('devices.enroll') || session.can('audit.read')) && (
              <a href="/admin" aria-current={pathname.startsWith('/admin') ? 'page' : undefined}>Admin</a>
            )}
          </nav>
          <div class="who">
            <Avatar userId={session.user.id} name={session.user.username} />
            <a href="/account" aria-label="Your account" title={`role ${session.user.role.name}; your account and SSH keys`}>{session.user.username}</a>
            <AvatarPicker userId={session.user.id} label="Picture" onError={(e) => setAvatarError(e ? messageOf(e) : '')} />
            {avatarError && <span role="alert" class="muted">{avatarError}</span>}
            <button type="button" onClick={() => void session.logout()}>Log out</button>
          </div>
        </header>
        <main id="main">{page}</main>
      </div>
    </SessionContext.Provider>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
