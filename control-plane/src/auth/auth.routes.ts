import { Hono, type Context } from 'hono';
import { setCookie, deleteCookie, getCookie } from 'hono/cookie';
import type { Kysely } from 'kysely';
import { EdgehookError, LoginForm, LoginJson, validate, type Clock, type TokenPair } from '@edgehook/shared';
import { CoreRoutes as R } from '@edgehook/shared/rest';
import { routeMounter } from '../http/rest-route.js';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { clientAddress } from '../http/client-address.js';
import { formFields, isJsonType } from '../http/validate.js';
import { toUserView, findUserById } from './users.repository.js';
import type { Authenticator } from './authenticator.js';
import { toPrincipal } from './authenticator.js';
import { requireAuth } from './auth.middleware.js';
import { ACCESS_COOKIE, REFRESH_COOKIE, bearerToken } from './credentials.js';
import type { RevocationSink } from './revocations.js';
import { createSession, revokeSession, rotateRefreshToken, type IssuedTokens, type TokenLifetimes } from './sessions.repository.js';
import { totpRoutes } from './totp.routes.js';

export interface AuthRoutesDeps {
  db: Kysely<Database>;
  clock: Clock;
  auth: Authenticator;
  tokens: TokenLifetimes;
  /** Set the Secure flag on cookies (when served over HTTPS). */
  secureCookies: boolean;
  revocations: RevocationSink;
}

/**
 * Login accepts JSON {username|email, password, totp?} (Encedeus) or form fields user & passwd
 * (PiKVM clients, code appended to the password). Never the query string: URLs end up in logs and
 * browser history; only the PiKVM facade (/kvm/...) takes them there, as kvmd does.
 */
async function readLogin(c: Context): Promise<{ login: string; password: string; totp?: string | undefined; form: boolean }> {
  const type = c.req.header('content-type') ?? '';
  if (isJsonType(type)) {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw new EdgehookError('BAD_REQUEST', 'the request body is not valid JSON');
    }
    const body = validate(LoginJson, raw);
    if (!body.ok) throw new EdgehookError('BAD_REQUEST', `invalid login: ${body.error}`);
    return { login: body.value.username ?? body.value.email ?? '', password: body.value.password, totp: body.value.totp, form: false };
  }
  if (c.req.query('passwd') !== undefined || c.req.query('password') !== undefined) {
    throw new EdgehookError('BAD_REQUEST', 'credentials are not accepted in the query string; send them in the body');
  }
  const fields = type.includes('form') ? await formFields(c) : {};
  const form = validate(LoginForm, { user: fields['user'], passwd: fields['passwd'] });
  if (!form.ok) throw new EdgehookError('BAD_REQUEST', `invalid login: send JSON {username, password} or form fields user and passwd (${form.error})`);
  const totp = typeof fields['totp'] === 'string' && fields['totp'] !== '' ? fields['totp'] : undefined;
  return { login: form.value.user, password: form.value.passwd, totp, form: true };
}

export function authRoutes(deps: AuthRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const mount = routeMounter(app, '/api/auth', deps.db);

  function respondWithTokens(c: Context, issued: IssuedTokens, extra: { totpEnrollmentRequired?: boolean } = {}): Response {
    const expiresIn = Math.round((issued.accessExpiresAt - deps.clock.now()) / 1000);
    // Secure whenever the browser came over HTTPS (TLS here, or a TLS proxy in front).
    const https = new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
    const common = { httpOnly: true, sameSite: 'Strict', secure: deps.secureCookies || https } as const;
    setCookie(c, ACCESS_COOKIE, issued.accessToken, { ...common, path: '/', maxAge: expiresIn });
    setCookie(c, REFRESH_COOKIE, issued.refreshToken, { ...common, path: '/api/auth', maxAge: Math.round(deps.tokens.refreshTtlMs / 1000) });
    const body: TokenPair = { accessToken: issued.accessToken, refreshToken: issued.refreshToken, expiresIn, ...extra };
    return c.json(body);
  }

  // The body is JSON or a form (PiKVM clients): read by readLogin, not by the map's JSON check.
  mount(R.login, async ({ c }) => {
    const attempt = await readLogin(c);
    const user = await deps.auth.login({ login: attempt.login, password: attempt.password, totp: attempt.totp, address: clientAddress(c), codeMayBeAppended: attempt.form });
    const enroll = toPrincipal(user, null).totpEnrollmentRequired === true;
    return respondWithTokens(c, await createSession(deps.db, user.id, deps.clock.now(), deps.tokens), enroll ? { totpEnrollmentRequired: true } : {});
  }, { raw: { body: true } });

  const refresh = async (c: Context): Promise<Response> => {
    const token = bearerToken(c.req.header('authorization')) ?? getCookie(c, REFRESH_COOKIE);
    if (!token) throw new EdgehookError('UNAUTHENTICATED', 'send the refresh token as Authorization: Bearer <token>');
    const outcome = await rotateRefreshToken(deps.db, token, deps.clock.now(), deps.tokens);
    if (outcome.kind === 'reused') {
      await deps.revocations.announce({ type: 'session', sessionId: outcome.sessionId, reason: 'refresh token reused' });
      throw new EdgehookError('INVALID_CREDENTIALS', 'this refresh token was already used; the session is revoked, log in again');
    }
    if (outcome.kind === 'invalid') throw new EdgehookError('INVALID_CREDENTIALS', 'the refresh token is unknown, expired or revoked');
    return respondWithTokens(c, outcome.tokens);
  };
  mount(R.refreshPost, ({ c }) => refresh(c));
  mount(R.refreshGet, ({ c }) => refresh(c));

  const signedIn = { before: [requireAuth(deps.auth)] };
  mount(R.check, async ({ c }) => {
    const principal = c.get('principal');
    const user = await findUserById(deps.db, principal.userId);
    if (!user) throw new EdgehookError('INVALID_CREDENTIALS');
    return { ok: true as const, user: toUserView(user), ...(principal.totpEnrollmentRequired ? { totpEnrollmentRequired: true as const } : {}) };
  }, signedIn);

  mount(R.logout, async ({ c }) => {
    const { sessionId } = c.get('principal');
    if (sessionId) {
      await revokeSession(deps.db, sessionId, deps.clock.now());
      await deps.revocations.announce({ type: 'session', sessionId, reason: 'logged out' });
    }
    deleteCookie(c, ACCESS_COOKIE, { path: '/' });
    deleteCookie(c, REFRESH_COOKIE, { path: '/api/auth' });
    return { ok: true as const };
  }, signedIn);

  app.route('/totp', totpRoutes(deps));
  return app;
}
