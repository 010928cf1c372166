import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { EdgehookError, type Clock } from '@edgehook/shared';
import { CoreRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import type { RevocationSink } from '../auth/revocations.js';
import { routeMounter } from '../http/rest-route.js';
import { countUsersWithRole, deleteRole, findRole, insertRole, listRoles, updateRole } from './roles.repository.js';

export function rolesRoutes(deps: { db: Kysely<Database>; clock: Clock; revocations: RevocationSink }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, clock } = deps;

  async function mustFind(id: string) {
    const role = await findRole(db, { id });
    if (!role) throw new EdgehookError('NOT_FOUND', 'no such role');
    return role;
  }

  const mount = routeMounter(app, '/api/roles', db);
  mount(R.roleList, () => listRoles(db));
  mount(R.roleGet, ({ params }) => mustFind(params.id));

  mount(R.roleCreate, async ({ body: input }) => {
    if (await findRole(db, { name: input.name })) throw new EdgehookError('CONFLICT', `a role named ${input.name} exists`);
    return insertRole(db, input, clock.now());
  });

  mount(R.roleUpdate, async ({ params, body: patch }) => {
    const role = await mustFind(params.id);
    // Built-in roles keep their names, and admin keeps '*', so nobody can lock the fleet out.
    if (role.builtin && patch.name !== undefined && patch.name !== role.name) throw new EdgehookError('CONFLICT', 'built-in roles cannot be renamed');
    if (role.name === 'admin' && patch.permissions !== undefined) throw new EdgehookError('CONFLICT', 'the admin role always has every permission');
    if (patch.name !== undefined && patch.name !== role.name && (await findRole(db, { name: patch.name }))) {
      throw new EdgehookError('CONFLICT', `a role named ${patch.name} exists`);
    }
    await updateRole(db, role.id, patch);
    const updated = await mustFind(role.id);
    // Live sockets of this role's members are re-checked on every replica: a removed permission
    // closes the sockets opened under it.
    if (patch.permissions !== undefined) await deps.revocations.announce({ type: 'role', roleId: role.id, permissions: updated.permissions, reason: `role ${role.name} changed` });
    return updated;
  });

  mount(R.roleDelete, async ({ params }) => {
    const role = await mustFind(params.id);
    if (role.builtin) throw new EdgehookError('CONFLICT', 'built-in roles cannot be deleted');
    const users = await countUsersWithRole(db, role.id);
    if (users > 0) throw new EdgehookError('CONFLICT', `${users} user(s) still have this role`);
    await deleteRole(db, role.id);
    return null;
  });

  return app;
}
