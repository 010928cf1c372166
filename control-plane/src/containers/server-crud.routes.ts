import { Hono, type Context } from 'hono';
import { DeclaredServers, EdgehookError, type DeclaredServer as Server, type PlanStep } from '@edgehook/shared';
import { ContainerRoutes as R } from '@edgehook/shared/rest';
import type { AppEnv, DeviceRef } from '../http/context.js';
import { parseValue } from '../http/validate.js';
import { routeMounter } from '../http/rest-route.js';
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

  const mount = routeMounter(app, '/api/devices', db);

  async function change(c: Context<AppEnv>, device: DeviceRef, dryRun: boolean, edit: Edit, status: 200 | 201): Promise<Response> {
    if (dryRun) {
      const servers = parseValue(DeclaredServers, edit((await getDeclaredSet(db, device.id)).servers), 'declared set');
      if (!device.online) return c.json({ dryRun: true, servers, plan: null, pending: `device ${device.name} is offline: no plan until it reconnects` });
      const { steps } = await rpc.call(device.id, 'servers.plan', { servers }, { timeoutMs: 30_000 });
      return c.json({ dryRun: true, servers, plan: steps satisfies PlanStep[] });
    }
    const { revision, servers } = await editDeclaredSet(db, device.id, (current) => parseValue(DeclaredServers, edit(current), 'declared set'), c.get('principal').username, deps.clock.now());
    if (!device.online) return c.json({ revision, servers, apply: null, pending: `device ${device.name} is offline; the set is applied when it reconnects` }, 202);
    return c.json({ revision, servers, apply: await applyDeclaredSet(deps, device.id, servers, revision) }, status);
  }

  mount(R.serverGet, async ({ device, params }) => {
    const server = (await getDeclaredSet(db, device.id)).servers.find((s) => s.name === params.name);
    if (!server) throw new EdgehookError('NOT_FOUND', `no declared server ${params.name}`);
    return server;
  });

  mount(R.serverCreate, ({ c, device, query, body: server }) =>
    change(c, device, query.dryRun, (current) => {
      if (current.some((s) => s.name === server.name)) throw new EdgehookError('CONFLICT', `a server named ${server.name} is already declared; edit it instead`);
      return [...current, server];
    }, 201),
  );

  // Replaces one server's spec (the name stays: a rename is a remove and a create).
  mount(R.serverPut, ({ c, device, params: { name }, query, body: server }) => {
    if (server.name !== name) throw new EdgehookError('BAD_REQUEST', `the body names ${server.name}, the path ${name}: servers cannot be renamed (remove and create)`);
    return change(c, device, query.dryRun, (current) => {
      if (!current.some((s) => s.name === name)) throw new EdgehookError('NOT_FOUND', `no declared server ${name}`);
      return current.map((s) => (s.name === name ? server : s));
    }, 200);
  });

  // The container goes; its data directory on the device stays (the planner never deletes data).
  mount(R.serverDelete, ({ c, device, params: { name }, query }) =>
    change(c, device, query.dryRun, (current) => {
      if (!current.some((s) => s.name === name)) throw new EdgehookError('NOT_FOUND', `no declared server ${name}`);
      return current.filter((s) => s.name !== name);
    }, 200),
  );

  return app;
}
