import type { Context } from 'hono';

/** Who sent a request or opened a socket, as the authenticator found them. */
export interface Principal {
  userId: string;
  username: string;
  roleId: string;
  roleName: string;
  /** Updated in place when the role changes, so live sockets check the new grants. */
  permissions: string[];
  /** The session a token belongs to; null for per-request password auth. */
  sessionId: string | null;
  /** The role requires a second factor the user has not enrolled: no permission applies until then. */
  totpEnrollmentRequired?: boolean;
}

/** What middleware puts on the Hono context for the routes below it. */
export type AppEnv = { Variables: { principal: Principal } };
export type AppContext = Context<AppEnv>;
