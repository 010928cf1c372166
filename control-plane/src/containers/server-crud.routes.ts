import { Hono, type Context } from 'hono';
import { DeclaredServer, DeclaredServers, EdgehookError, ServerName, type DeclaredServer as Server, type PlanStep } from '@edgehook/shared';
import type { AppEnv } from '../http/context.js';
import { requirePermission } from '../auth/auth.middleware.js';
import { jsonBody, parseValue } from '../http/validate.js';
import { findDeviceByRef } from '../devices/devices.repository.js';
import { editDeclaredSet, getDeclaredSet } from './servers.repository.js';
import { applyDeclaredSet, type ServersDeps } from './servers.routes.js';

type Edit = (current: Server[]) => Server[];

/**
 * One declared server at a time: `POST /:id/servers` (create), `GET|PUT|DELETE /:id/servers/:name`.
 * Each is an edit of the device's declared set (so the same planner and reconcile apply), and
 * `?dryRun=true` answers the steps the device would take, changing nothing.
 */
export function serverCrudRoutes(deps: ServersDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, rpc } = deps;

  const knownDevice = async (ref: string) => {
    const row = await findDeviceByRef(db, ref);
    if (!row) throw new EdgehookError('NOT_FOUND', `no device with id or name ${ref}`);
    return row;
  };
  const nameOf = (c: Context) => parseValue(ServerName, c.req.param('name'), 'server name');
  const dryRun = (c: Context) => c.req.query('dryRun') === 'true' || c.req.query('dryRun') === '1';

  async function change(c: Context<AppEnv>, ref: string, edit: Edit, status: 200 | 201): Promise<Response> {
    const device = await knownDevice(ref);
    if (dryRun(c)) {
      const servers = parseValue(DeclaredServers, edit((await getDeclaredSet(db, device.id)).servers), 'declared set');
      if (device.online !== 1) return c.json({ dryRun: true, servers, plan: null, pending: `device ${device.name} is offline: no plan until it reconnects` });
      const { steps } = await rpc.call(device.id, 'servers.plan', { servers }, { timeoutMs: 30_000 });
      return c.json({ dryRun: true, servers, plan: steps satisfies PlanStep[] });
    }
    const { revision, servers } = await editDeclaredSet(db, device.id, (current) => parseValue(DeclaredServers, edit(current), 'declared set'), c.get('principal').username, deps.clock.now());
    if (device.online !== 1) return c.json({ revision, servers, apply: null, pending: `device ${device.name} is offline; the set is applied when it reconnects` }, 202);
    return c.json({ revision, servers, apply: await applyDeclaredSet(deps, device.id, servers, revision) }, status);
  }

  app.get('/:id/servers/:name', requirePermission('containers.read'), async (c) => {
    const name = nameOf(c);
    const server = (await getDeclaredSet(db, (await knownDevice(c.req.param('id'))).id)).servers.find((s) => s.name === name);
    if (!server) throw new EdgehookError('NOT_FOUND', `no declared server ${name}`);
    return c.json(server);
  });

  app.post('/:id/servers', requirePermission('containers.control'), async (c) => {
    const server = await jsonBody(c, DeclaredServer);
    return change(c, c.req.param('id'), (current) => {
      if (current.some((s) => s.name === server.name)) throw new EdgehookError('CONFLICT', `a server named ${server.name} is already declared; edit it instead`);
      return [...current, server];
    }, 201);
  });

  // Replaces one server's spec (the name stays: a rename is a remove and a create).
  app.put('/:id/servers/:name', requirePermission('containers.control'), async (c) => {
    const name = nameOf(c);
    const server = await jsonBody(c, DeclaredServer);
    if (server.name !== name) throw new EdgehookError('BAD_REQUEST', `the body names ${server.name}, the path ${name}: servers cannot be renamed (remove and create)`);
    return change(c, c.req.param('id'), (current) => {
      if (!current.some((s) => s.name === name)) throw new EdgehookError('NOT_FOUND', `no declared server ${name}`);
      return current.map((s) => (s.name === name ? server : s));
    }, 200);
  });

  // The container goes; its data directory on the device stays (the planner never deletes data).
  app.delete('/:id/servers/:name', requirePermission('containers.control'), async (c) => {
    const name = nameOf(c);
    return change(c, c.req.param('id'), (current) => {
      if (!current.some((s) => s.name === name)) throw new EdgehookError('NOT_FOUND', `no declared server ${name}`);
      return current.filter((s) => s.name !== name);
    }, 200);
  });

  return app;
}
