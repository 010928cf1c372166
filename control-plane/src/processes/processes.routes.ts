import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Kysely } from 'kysely';
import { EdgehookError, ExecuteBody, PowCallBody, ProcSignalBody, type ProcessStatusResult } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { requirePermission } from '../auth/auth.middleware.js';
import { jsonBody } from '../http/validate.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { onlineDevice } from '../relay/ws-bridge.js';

export interface ProcessesRoutesDeps {
  db: Kysely<Database>;
  rpc: RpcClient;
}

const RPC_TIMEOUT = { timeoutMs: 10_000 };

async function powCall(c: Context): Promise<{ call: string; params: string[] }> {
  try {
    return await jsonBody(c, PowCallBody);
  } catch (err) {
    throw err instanceof EdgehookError ? new EdgehookError('BAD_REQUEST', `failed to decode call message: ${err.message}`) : err;
  }
}

/**
 * pow-1 REST shapes: `result` is `{status, value}`, `{status, reason}` or `{status: "pending"}`;
 * `buffer` is left out when empty (the Go server's `json:"buffer,omitempty"`).
 */
function powStatus(s: ProcessStatusResult): { result: Record<string, unknown>; buffer?: string } {
  const r = s.result;
  const result = r.status === 'pending' ? { status: 'pending' } : r.status === 'rejected' ? { status: 'rejected', reason: r.reason } : r.value === undefined ? { status: 'fulfilled' } : { status: 'fulfilled', value: r.value };
  return s.buffer === '' ? { result } : { result, buffer: s.buffer };
}

/** The Go server's errors are text/plain (http.Error: the message and a newline), per its openapi.json. */
function powTextErrors(err: Error, c: Context): Response {
  const status = err instanceof EdgehookError ? err.httpStatus : 500;
  const message = err instanceof EdgehookError ? err.message : 'internal server error';
  return c.text(`${message}\n`, status === 204 || status < 400 || status > 599 ? 500 : (status as ContentfulStatusCode), { 'x-content-type-options': 'nosniff' });
}

/**
 * Processes without a live socket. Their state lives on the device (the agent keeps each session,
 * its output tail and its result), so any control-plane replica can answer for it.
 *   /:id/pow/*        the pow-1 REST mirror (server-defined calls)
 *   /:id/processes    Quix WSI: execute (arbitrary argv), view_running, proc_signal
 */
export function processesRoutes(deps: ProcessesRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, rpc } = deps;
  const device = async (ref: string) => (await onlineDevice(db, ref)).id;

  const pow = new Hono<AppEnv>();
  pow.onError(powTextErrors);
  // The declared actions with their parameter rules (never their command), for forms and CLIs.
  pow.get('/actions', requirePermission('devices.exec'), async (c) => {
    return c.json(await rpc.call(await device(c.req.param('id') ?? ''), 'processes.actions', {}, RPC_TIMEOUT));
  });
  // As the Go server: an unknown call or invalid params still get an id, whose status is rejected.
  pow.post('/new', requirePermission('devices.exec'), async (c) => {
    const body = await powCall(c);
    const res = await rpc.call(await device(c.req.param('id') ?? ''), 'processes.start', { spec: { call: body.call, params: body.params }, rejectInvalid: true }, RPC_TIMEOUT);
    return c.json(res.id);
  });
  pow.get('/status/:pid', requirePermission('devices.exec'), async (c) => {
    const res = await rpc.call(await device(c.req.param('id') ?? ''), 'processes.status', { id: c.req.param('pid') }, RPC_TIMEOUT);
    return c.json(powStatus(res));
  });
  pow.post('/input/:pid', requirePermission('devices.exec'), async (c) => {
    const text = await c.req.text();
    if (text.length > 1024 * 1024) throw new EdgehookError('BAD_REQUEST', 'input is limited to 1 MB per request');
    await rpc.call(await device(c.req.param('id') ?? ''), 'processes.input', { id: c.req.param('pid'), data: text }, RPC_TIMEOUT);
    return c.text('input sent');
  });
  pow.post('/closeInput/:pid', requirePermission('devices.exec'), async (c) => {
    await rpc.call(await device(c.req.param('id') ?? ''), 'processes.closeInput', { id: c.req.param('pid') }, RPC_TIMEOUT);
    return c.text('input closed');
  });
  pow.post('/cancel/:pid', requirePermission('devices.exec'), async (c) => {
    await rpc.call(await device(c.req.param('id') ?? ''), 'processes.cancel', { id: c.req.param('pid') }, RPC_TIMEOUT);
    return c.text('process cancelled');
  });
  app.route('/:id/pow', pow);

  // Quix WSI `execute`: arbitrary argv (never a shell string), for roles trusted with it.
  app.post('/:id/processes', requirePermission('devices.exec.arbitrary'), async (c) => {
    const body = await jsonBody(c, ExecuteBody);
    const spec = { argv: body.cmd, ...(body.cwd ? { cwd: body.cwd } : {}), ...(body.env ? { env: body.env } : {}) };
    const res = await rpc.call(await device(c.req.param('id') ?? ''), 'processes.start', { spec }, RPC_TIMEOUT);
    return c.json({ result: 'success', proc_id: res.pid, id: res.id }, 201);
  });
  // Quix `view_running`.
  app.get('/:id/processes', requirePermission('devices.exec'), async (c) => {
    return c.json(await rpc.call(await device(c.req.param('id') ?? ''), 'processes.list', {}, RPC_TIMEOUT));
  });
  // Quix `proc_signal`: only processes the agent started; the agent refuses any other pid.
  app.post('/:id/processes/signal', requirePermission('devices.exec'), async (c) => {
    const body = await jsonBody(c, ProcSignalBody);
    await rpc.call(await device(c.req.param('id') ?? ''), 'processes.signal', { pid: body.pid, signal: body.mode }, RPC_TIMEOUT);
    return c.json({ result: 'success' });
  });
  // Output and result of an `execute`d process, by the id it returned.
  app.get('/:id/processes/:procId', requirePermission('devices.exec'), async (c) => {
    return c.json(await rpc.call(await device(c.req.param('id') ?? ''), 'processes.status', { id: c.req.param('procId') }, RPC_TIMEOUT));
  });
  return app;
}
