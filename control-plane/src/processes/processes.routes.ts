import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Kysely } from 'kysely';
import { EdgehookError, PowCallBody, type ProcessStatusResult } from '@edgehook/shared';
import { DeviceRoutes as R, PowRoutes as P, type RouteResult } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { jsonBody } from '../http/validate.js';
import { routeMounter } from '../http/rest-route.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { buildPowOpenApi } from '../docs/openapi.js';

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
function powStatus(s: ProcessStatusResult): RouteResult<typeof P.powStatus> {
  const r = s.result;
  const result: RouteResult<typeof P.powStatus>['result'] = r.status === 'pending' ? { status: 'pending' } : r.status === 'rejected' ? { status: 'rejected', reason: r.reason } : r.value === undefined ? { status: 'fulfilled' } : { status: 'fulfilled', value: r.value };
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

  const pow = new Hono<AppEnv>();
  pow.onError(powTextErrors);
  const powMount = routeMounter(pow, '/api/devices/:id/pow', db);
  // The declared actions with their parameter rules (never their command), for forms and CLIs.
  powMount(P.powActions, ({ device }) => rpc.call(device.id, 'processes.actions', {}, RPC_TIMEOUT));
  // As the Go server: an unknown call or invalid params still get an id, whose status is rejected.
  powMount(P.powNew, async ({ c, device }) => {
    const body = await powCall(c);
    const res = await rpc.call(device.id, 'processes.start', { spec: { call: body.call, params: body.params }, rejectInvalid: true }, RPC_TIMEOUT);
    return res.id;
  }, { raw: { body: true } });
  powMount(P.powStatus, async ({ device, params }) => powStatus(await rpc.call(device.id, 'processes.status', { id: params.pid }, RPC_TIMEOUT)));
  powMount(P.powInput, async ({ c, device, params }) => {
    const text = await c.req.text();
    if (text.length > 1024 * 1024) throw new EdgehookError('BAD_REQUEST', 'input is limited to 1 MB per request');
    await rpc.call(device.id, 'processes.input', { id: params.pid, data: text }, RPC_TIMEOUT);
    return c.text('input sent');
  });
  powMount(P.powCloseInput, async ({ c, device, params }) => {
    await rpc.call(device.id, 'processes.closeInput', { id: params.pid }, RPC_TIMEOUT);
    return c.text('input closed');
  });
  powMount(P.powCancel, async ({ c, device, params }) => {
    await rpc.call(device.id, 'processes.cancel', { id: params.pid }, RPC_TIMEOUT);
    return c.text('process cancelled');
  });
  // The pow-1 README promises an openapi.json beside the REST API: this mirror's, shaped like the Go server's.
  powMount(P.powOpenapi, ({ device }) => buildPowOpenApi(P, `/api/devices/${encodeURIComponent(device.id)}/pow`));
  app.route('/:id/pow', pow);

  const mount = routeMounter(app, '/api/devices', db);
  // Quix WSI `execute`: arbitrary argv (never a shell string), for roles trusted with it.
  mount(R.execute, async ({ device, body }) => {
    const spec = { argv: body.cmd, ...(body.cwd ? { cwd: body.cwd } : {}), ...(body.env ? { env: body.env } : {}) };
    const res = await rpc.call(device.id, 'processes.start', { spec }, RPC_TIMEOUT);
    return { result: 'success' as const, proc_id: res.pid, id: res.id };
  });
  // Quix `view_running`.
  mount(R.processList, ({ device }) => rpc.call(device.id, 'processes.list', {}, RPC_TIMEOUT));
  // Quix `proc_signal`: only processes the agent started; the agent refuses any other pid.
  mount(R.processSignal, async ({ device, body }) => {
    await rpc.call(device.id, 'processes.signal', { pid: body.pid, signal: body.mode }, RPC_TIMEOUT);
    return { result: 'success' as const };
  });
  // Output and result of an `execute`d process, by the id it returned.
  mount(R.processStatus, ({ device, params }) => rpc.call(device.id, 'processes.status', { id: params.procId }, RPC_TIMEOUT));
  return app;
}
