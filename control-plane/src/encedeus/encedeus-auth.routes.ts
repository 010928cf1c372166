import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { EdgehookError, EncedeusLogin } from '@edgehook/shared';
import type { AppEnv } from '../http/context.js';
import { bearerToken } from '../auth/credentials.js';
import { createSession, findRefreshSession, issueAccessToken, revokeSession } from '../auth/sessions.repository.js';
import { EncedeusRoutes as R } from '@edgehook/shared/rest';
import { encedeusBody, encedeusMounter, given, mintEncedeusAccessToken } from './encedeus-http.js';
import type { EncedeusDeps } from './encedeus.routes.js';
import { clientAddress } from '../http/client-address.js';

/** The cookie Encedeus's panel sets and its refresh/signout middleware reads. */
export const ENCEDEUS_REFRESH_COOKIE = 'encedeus_refreshToken';

/**
 * /auth: today's signin/refresh/signout and the seed's login/refresh. Passwords are checked by the
 * one Authenticator.login every login uses (with its throttle).
 * Refresh here does NOT rotate (docs/encedeus.md: why, and what protects the token instead).
 */
export function encedeusAuthRoutes(deps: EncedeusDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const cookiePath = deps.prefix === '' ? '/' : deps.prefix;

  async function signIn(c: Context, status: 200 | 201): Promise<Response> {
    const body = await encedeusBody(c, EncedeusLogin);
    const login = given(body.uid) ?? given(body.username) ?? given(body.email);
    if (login === undefined) throw new EdgehookError('BAD_REQUEST', 'either username or email must be specified');
    // The one login door (throttled, constant-time for unknown users, second factor appended as
    // kvmd does). One answer for an unknown user and a wrong password (Encedeus says 404 for the
    // first: that tells strangers which accounts exist).
    const user = await deps.auth.login({ login: login.trim(), password: body.password, address: clientAddress(c), codeMayBeAppended: true }).catch((err: unknown) => {
      // Encedeus's own word for a refused sign-in; throttling (429) and the rest pass through.
      throw err instanceof EdgehookError && err.code === 'INVALID_CREDENTIALS' ? new EdgehookError('INVALID_CREDENTIALS', 'unauthorised') : err;
    });
    const issued = await createSession(deps.db, user.id, deps.clock.now(), deps.tokens, mintEncedeusAccessToken);
    setCookie(c, ENCEDEUS_REFRESH_COOKIE, issued.refreshToken, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: deps.secureCookies,
      path: cookiePath,
      maxAge: Math.round(deps.tokens.refreshTtlMs / 1000),
    });
    return c.json({ accessToken: issued.accessToken, refreshToken: issued.refreshToken }, status);
  }

  // The cookie first: js-api sends its *access* token as Bearer on every request, refresh included.
  const refreshTokenOf = (c: Context): string | undefined => getCookie(c, ENCEDEUS_REFRESH_COOKIE) || bearerToken(c.req.header('authorization'));

  const mount = encedeusMounter(app, '/auth', deps.db);
  mount(R.encSignIn, ({ c }) => signIn(c, 201));
  mount(R.encLogin, ({ c }) => signIn(c, 200));

  mount(R.encRefresh, async ({ c }) => {
    const token = refreshTokenOf(c);
    if (!token) throw new EdgehookError('UNAUTHENTICATED', 'unauthorised: no refresh token (cookie encedeus_refreshToken or Authorization: Bearer)');
    const issued = await issueAccessToken(deps.db, token, deps.clock.now(), deps.tokens, mintEncedeusAccessToken);
    if (!issued) throw new EdgehookError('INVALID_CREDENTIALS', 'unauthorised: the refresh token is unknown, expired or revoked');
    return c.json({ accessToken: issued.accessToken });
  });

  mount(R.encSignOut, async ({ c }) => {
    const token = refreshTokenOf(c);
    if (!token) throw new EdgehookError('UNAUTHENTICATED', 'unauthorised: no refresh token');
    const now = deps.clock.now();
    const session = await findRefreshSession(deps.db, token, now);
    if (!session) throw new EdgehookError('INVALID_CREDENTIALS', 'unauthorised: the refresh token is unknown, expired or revoked');
    // Revoking the session ends its refresh token and every access token issued from it.
    await revokeSession(deps.db, session.sessionId, now);
    // This replica forgets the session's tokens at once; others within the authenticator's TOKEN_CACHE_MS.
    deps.auth.forget({ type: 'session', sessionId: session.sessionId, reason: 'signed out' });
    deleteCookie(c, ENCEDEUS_REFRESH_COOKIE, { path: cookiePath, httpOnly: true, sameSite: 'Strict', secure: deps.secureCookies });
    return c.body(null, 200);
  });

  return app;
}
