import { Hono, type MiddlewareHandler } from 'hono';
import { EdgehookError } from '@edgehook/shared';
import type { Kysely } from 'kysely';
import type { Clock, Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { TokenLifetimes } from '../auth/sessions.repository.js';
import { encedeusErrorHandler } from './encedeus-http.js';
import { encedeusAuthRoutes } from './encedeus-auth.routes.js';
import { encedeusUsersRoutes } from './encedeus-users.routes.js';
import { encedeusRolesRoutes } from './encedeus-roles.routes.js';
import { clientAddress } from '../http/client-address.js';

export interface EncedeusDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  auth: Authenticator;
  tokens: TokenLifetimes;
  secureCookies: boolean;
  /** '' for the root (Encedeus's own paths), else e.g. '/encedeus'. */
  prefix: string;
}

/**
 * The usual credentials, plus the seed spec's spelling `Authorisation: Bearer` (its /role examples
 * use it), so a client written from the spec works.
 */
function encedeusAuth(auth: Authenticator): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const outcome = await auth.authenticate((name) => c.req.header(name) ?? (name === 'authorization' ? c.req.header('authorisation') : undefined), { address: clientAddress(c) });
    if (outcome.kind === 'refused') throw outcome.error;
    if (outcome.kind === 'none') throw new EdgehookError('UNAUTHENTICATED', 'unauthorised: send Authorization: Bearer <access token>');
    if (outcome.kind === 'invalid') throw new EdgehookError('INVALID_CREDENTIALS', 'unauthorised: the access token is unknown, expired or revoked');
    c.set('principal', outcome.principal);
    await next();
  };
}

/**
 * Encedeus's REST API (both generations) on its own paths: /auth, /user, /role. Every answer is
 * JSON, unknown paths under them included, so the console's HTML never reaches an API client.
 */
export function encedeusRoutes(deps: EncedeusDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const family = (refusal: 401 | 403, routes: Hono<AppEnv>, authed: boolean): Hono<AppEnv> => {
    const sub = new Hono<AppEnv>();
    sub.onError(encedeusErrorHandler(deps.log, refusal));
    if (authed) sub.use(encedeusAuth(deps.auth));
    sub.route('/', routes);
    sub.all('*', (c) => c.json({ message: 'not found' }, 404));
    return sub;
  };
  app.route('/auth', family(401, encedeusAuthRoutes(deps), false));
  app.route('/user', family(403, encedeusUsersRoutes(deps), true));
  app.route('/role', family(401, encedeusRolesRoutes(deps), true));
  // Under a prefix the whole prefix is API; at the root the console keeps the other paths.
  if (deps.prefix !== '') app.all('*', (c) => c.json({ message: 'not found' }, 404));
  return app;
}
