import { Hono, type Context } from 'hono';
import { setCookie, deleteCookie, getCookie } from 'hono/cookie';
import type { Kysely } from 'kysely';
import { EdgehookError, LoginForm, LoginJson, validate, type Clock, type TokenPair } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { toUserView, findUserById } from '../users/users.repository.js';
import type { Authenticator } from './authenticator.js';
import { requireAuth } from './auth.middleware.js';
import { ACCESS_COOKIE, REFRESH_COOKIE, bearerToken } from './credentials.js';
import { createSession, revokeSession, rotateRefreshToken, type IssuedTokens, type TokenLifetimes } from './sessions.repository.js';

export interface AuthRoutesDeps {
  db: Kysely<Database>;
  clock: Clock;
  auth: Authenticator;
  tokens: TokenLifetimes;
  /** Set the Secure flag on cookies (when served over HTTPS). */
  secureCookies: boolean;
}

/** Login accepts JSON {username|email, password} (Encedeus) or form/query user & passwd (PiKVM). */
async function readLogin(c: Context): Promise<{ login: string; password: string }> {
  const type = c.req.header('content-type') ?? '';
  if (type.includes('application/json')) {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw new EdgehookError('BAD_REQUEST', 'the request body is not valid JSON');
    }
    const body = validate(LoginJson, raw);
    if (!body.ok) throw new EdgehookError('BAD_REQUEST', `invalid login: ${body.error}`);
    return { login: body.value.username ?? body.value.email ?? '', password: body.value.password };
  }
  let fields: Record<string, unknown> = {};
  if (type.includes('form')) fields = await c.req.parseBody();
  const merged = { user: fields['user'] ?? c.req.query('user'), passwd: fields['passwd'] ?? c.req.query('passwd') };
  const form = validate(LoginForm, merged);
  if (!form.ok) throw new EdgehookError('BAD_REQUEST', `invalid login: send JSON {username, password} or form fields user and passwd (${form.error})`);
  return { login: form.value.user, password: form.value.passwd };
}

export function authRoutes(deps: AuthRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  function respondWithTokens(c: Context, issued: IssuedTokens): Response {
    const expiresIn = Math.round((issued.accessExpiresAt - deps.clock.now()) / 1000);
    // Secure whenever the browser came over HTTPS (TLS here, or a TLS proxy in front).
    const https = new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
    const common = { httpOnly: true, sameSite: 'Strict', secure: deps.secureCookies || https } as const;
    setCookie(c, ACCESS_COOKIE, issued.accessToken, { ...common, path: '/', maxAge: expiresIn });
    setCookie(c, REFRESH_COOKIE, issued.refreshToken, { ...common, path: '/api/auth', maxAge: Math.round(deps.tokens.refreshTtlMs / 1000) });
    const body: TokenPair = { accessToken: issued.accessToken, refreshToken: issued.refreshToken, expiresIn };
    return c.json(body);
  }

  app.post('/login', async (c) => {
    const { login, password } = await readLogin(c);
    const user = await deps.auth.checkPassword(login, password);
    if (!user) throw new EdgehookError('INVALID_CREDENTIALS', 'wrong username or password');
    return respondWithTokens(c, await createSession(deps.db, user.id, deps.clock.now(), deps.tokens));
  });

  const refresh = async (c: Context): Promise<Response> => {
    const token = bearerToken(c.req.header('authorization')) ?? getCookie(c, REFRESH_COOKIE);
    if (!token) throw new EdgehookError('UNAUTHENTICATED', 'send the refresh token as Authorization: Bearer <token>');
    const outcome = await rotateRefreshToken(deps.db, token, deps.clock.now(), deps.tokens);
    if (outcome.kind === 'reused') throw new EdgehookError('INVALID_CREDENTIALS', 'this refresh token was already used; the session is revoked, log in again');
    if (outcome.kind === 'invalid') throw new EdgehookError('INVALID_CREDENTIALS', 'the refresh token is unknown, expired or revoked');
    return respondWithTokens(c, outcome.tokens);
  };
  app.post('/refresh', refresh);
  app.get('/refresh', refresh);

  app.get('/check', requireAuth(deps.auth), async (c) => {
    const user = await findUserById(deps.db, c.get('principal').userId);
    if (!user) throw new EdgehookError('INVALID_CREDENTIALS');
    return c.json({ ok: true, user: toUserView(user) });
  });

  app.post('/logout', requireAuth(deps.auth), async (c) => {
    const { sessionId } = c.get('principal');
    if (sessionId) await revokeSession(deps.db, sessionId, deps.clock.now());
    deleteCookie(c, ACCESS_COOKIE, { path: '/' });
    deleteCookie(c, REFRESH_COOKIE, { path: '/api/auth' });
    return c.json({ ok: true });
  });

  return app;
}
