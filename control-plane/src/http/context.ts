import type { Context } from 'hono';
import type { Principal } from '../auth/authenticator.js';

/** What middleware puts on the Hono context for the routes below it. */
export type AppEnv = { Variables: { principal: Principal } };
export type AppContext = Context<AppEnv>;
