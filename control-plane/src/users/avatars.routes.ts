import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Kysely } from 'kysely';
import { EdgehookError, type Clock } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { can } from '../auth/authenticator.js';
import { AVATAR_MAX_BYTES } from './avatar-image.js';
import { avatarResponse, deleteAvatar, findAvatar, storeAvatar } from './avatars.repository.js';
import { findUserById } from '../auth/users.repository.js';
import { routeMounter } from '../http/rest-route.js';
import { CoreRoutes as R } from '@edgehook/shared/rest';

/** Multipart framing on top of a 1 MB image; anything larger is refused before it is buffered. */
export function avatarBodyLimit(): MiddlewareHandler {
  return bodyLimit({
    maxSize: AVATAR_MAX_BYTES + 64 * 1024,
    onError: () => {
      throw new EdgehookError('BAD_REQUEST', 'profile pictures are at most 1 MB');
    },
  });
}

/** The upload as multipart (`file` field, as Encedeus clients send it) or as the raw image body. */
export async function readImageUpload(c: Context): Promise<{ bytes: Buffer; fields: Record<string, string> }> {
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('multipart/form-data')) return { bytes: Buffer.from(await c.req.arrayBuffer()), fields: {} };
  let form: Record<string, string | File | (string | File)[]>;
  try {
    form = await c.req.parseBody();
  } catch {
    throw new EdgehookError('BAD_REQUEST', 'the multipart body is malformed');
  }
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) if (typeof v === 'string') fields[k] = v;
  const file = form['file'];
  if (!(file instanceof File)) throw new EdgehookError('BAD_REQUEST', 'send the picture as a file part (with a filename) named file');
  return { bytes: Buffer.from(await file.arrayBuffer()), fields };
}

/** May the caller change this user's picture? Their own, or anyone's with users.admin. */
export function mayEditAvatar(c: Context<AppEnv>, userId: string): void {
  const principal = c.get('principal');
  if (userId !== principal.userId && !can(principal, 'users.admin')) throw new EdgehookError('FORBIDDEN', 'your role lacks the permission users.admin');
}

/** /api/users/:id/avatar: PUT (raw or multipart), GET (ETag, 304), DELETE. */
export function avatarsRoutes(deps: { db: Kysely<Database>; clock: Clock }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, clock } = deps;
  const mount = routeMounter(app, '/api/users', db);

  mount(R.avatarGet, async ({ c, params: { id } }) => {
    const avatar = await findAvatar(db, id);
    if (!avatar) throw new EdgehookError('NOT_FOUND', 'this user has no profile picture');
    return avatarResponse(c, avatar);
  });

  mount(R.avatarPut, async ({ c, params: { id } }) => {
    mayEditAvatar(c, id);
    if (!(await findUserById(db, id))) throw new EdgehookError('NOT_FOUND', 'no such user');
    const { bytes } = await readImageUpload(c);
    const avatar = await storeAvatar(db, id, bytes, clock.now());
    return { mime: avatar.mime, etag: avatar.etag, bytes: avatar.bytes.length };
  }, { before: [avatarBodyLimit()] });

  mount(R.avatarDelete, async ({ c, params: { id } }) => {
    mayEditAvatar(c, id);
    if (!(await deleteAvatar(db, id))) throw new EdgehookError('NOT_FOUND', 'this user has no profile picture');
    return c.body(null, 204);
  });

  return app;
}
