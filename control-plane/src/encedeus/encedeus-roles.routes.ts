import { Hono, type Context } from 'hono';
import { EdgehookError, EncedeusRoleCreate, EncedeusRoleRef, EncedeusRoleUpdate, EncedeusPermissionMap, RoleName, mapEncedeusPermissions, type RoleView } from '@edgehook/shared';
import type { AppEnv } from '../http/context.js';
import { parseValue } from '../http/validate.js';
import { EncedeusRoutes as R } from '@edgehook/shared/rest';
import { countUsersWithRole, deleteRole, findRole, insertRole, listRoles, updateRole } from '../users/roles.repository.js';
import { encedeusBody, encedeusMounter, encedeusRole, given, pathUuid } from './encedeus-http.js';
import type { EncedeusDeps } from './encedeus.routes.js';

/** Encedeus names and Edgehook grants both work; anything else is a 400 that says what is allowed. */
function grants(names: readonly string[]): string[] {
  const mapped = mapEncedeusPermissions(names);
  if (mapped.ok) return mapped.grants;
  throw new EdgehookError(
    'BAD_REQUEST',
    `unknown permission(s) ${mapped.unknown.join(', ')}: use Encedeus's (${Object.keys(EncedeusPermissionMap).join(', ')}) or Edgehook's (docs/encedeus.md)`,
  );
}

/**
 * /role: js-api's (GET /role, GET /role/:id, POST, PATCH with id in the body, DELETE /role/:id)
 * and the seed's (GET and DELETE /role with `{id}` in the body). js-api's role calls read
 * 400/401/404/410/500 only, so conflicts are 400s here (a 409 would read as success).
 */
export function encedeusRolesRoutes(deps: EncedeusDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, clock } = deps;
  const mount = encedeusMounter(app, '/role', db);

  async function mustFind(rawId: string): Promise<RoleView> {
    const role = await findRole(db, { id: pathUuid(rawId) });
    if (!role) throw new EdgehookError('NOT_FOUND', 'role not found');
    return role;
  }
  async function idFromBody(c: Context): Promise<string | undefined> {
    return given((await encedeusBody(c, EncedeusRoleRef)).id);
  }

  mount(R.encRoles, async ({ c }) => {
    const id = await idFromBody(c);
    if (id !== undefined) return c.json({ role: encedeusRole(await mustFind(id)) });
    return c.json({ roles: (await listRoles(db)).map(encedeusRole) });
  });
  mount(R.encRoleGet, async ({ c, params }) => c.json({ role: encedeusRole(await mustFind(params.id)) }));

  mount(R.encRoleCreate, async ({ c }) => {
    const body = await encedeusBody(c, EncedeusRoleCreate);
    const name = given(body.name);
    if (name === undefined || !body.permissions || body.permissions.length === 0) throw new EdgehookError('BAD_REQUEST', 'bad request: name and permissions are required');
    const input = { name: parseValue(RoleName, name, 'role name'), permissions: grants(body.permissions) };
    if (await findRole(db, { name: input.name })) throw new EdgehookError('BAD_REQUEST', `constraint error: a role named ${input.name} exists`);
    return c.json({ role: encedeusRole(await insertRole(db, input, clock.now())) });
  });

  mount(R.encRoleUpdate, async ({ c }) => {
    const body = await encedeusBody(c, EncedeusRoleUpdate);
    const rawId = given(body.id);
    const name = given(body.name);
    const permissions = body.permissions && body.permissions.length > 0 ? grants(body.permissions) : undefined;
    if (rawId === undefined || (name === undefined && permissions === undefined)) throw new EdgehookError('BAD_REQUEST', 'bad request: give id and a name or permissions');
    const role = await mustFind(rawId);
    const patch = { name: name === undefined ? undefined : parseValue(RoleName, name, 'role name'), permissions };
    // The same guards as /api/roles: built-in names stay, admin keeps '*'.
    if (role.builtin && patch.name !== undefined && patch.name !== role.name) throw new EdgehookError('BAD_REQUEST', 'built-in roles cannot be renamed');
    if (role.name === 'admin' && patch.permissions !== undefined) throw new EdgehookError('BAD_REQUEST', 'the admin role always has every permission');
    if (patch.name !== undefined && patch.name !== role.name && (await findRole(db, { name: patch.name }))) throw new EdgehookError('BAD_REQUEST', `constraint error: a role named ${patch.name} exists`);
    await updateRole(db, role.id, patch);
    return c.json({ role: encedeusRole(await mustFind(role.id)) });
  });

  async function remove(c: Context, rawId: string | undefined): Promise<Response> {
    if (rawId === undefined) throw new EdgehookError('BAD_REQUEST', 'bad request: give the role id');
    const role = await mustFind(rawId);
    if (role.builtin) throw new EdgehookError('BAD_REQUEST', 'built-in roles cannot be deleted');
    const users = await countUsersWithRole(db, role.id);
    if (users > 0) throw new EdgehookError('BAD_REQUEST', `${users} user(s) still have this role`);
    await deleteRole(db, role.id);
    return c.body(null, 200);
  }
  mount(R.encRoleDeleteBody, async ({ c }) => remove(c, await idFromBody(c)));
  mount(R.encRoleDelete, async ({ c, params }) => remove(c, params.id));

  return app;
}
