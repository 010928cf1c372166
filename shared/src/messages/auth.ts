import { z } from 'zod';
import { isValidGrant } from '../permissions.js';

export const Username = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'use 1-64 letters, digits, "_", ".", "@" or "-"');
export const Password = z.string().min(8, 'passwords have at least 8 characters').max(256);
export const Email = z.email().max(254);

/** JSON login as Encedeus clients send it: username or email, and password. */
export const LoginJson = z
  .object({ username: z.string().min(1).max(254).optional(), email: z.string().min(1).max(254).optional(), password: z.string().min(1).max(256) })
  .refine((b) => b.username !== undefined || b.email !== undefined, 'give username or email');

/** Form login as PiKVM clients send it. */
export const LoginForm = z.object({ user: z.string().min(1).max(254), passwd: z.string().min(1).max(256) });

export const TokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  /** Seconds until the access token expires. */
  expiresIn: z.number(),
});
export type TokenPair = z.infer<typeof TokenPair>;

export const PermissionGrant = z.string().refine(isValidGrant, 'unknown permission');
export const RoleName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'role names are lower-case, 1-64 characters');

export const CreateRole = z.object({ name: RoleName, permissions: z.array(PermissionGrant).max(100) }).strict();
export const UpdateRole = z
  .object({ name: RoleName.optional(), permissions: z.array(PermissionGrant).max(100).optional() })
  .strict();
export const RoleView = z.object({ id: z.string(), name: z.string(), permissions: z.array(z.string()), builtin: z.boolean() });
export type RoleView = z.infer<typeof RoleView>;

export const CreateUser = z
  .object({
    username: Username,
    email: Email.optional(),
    password: Password,
    roleId: z.string().optional(),
    roleName: RoleName.optional(),
  })
  .strict()
  .refine((u) => u.roleId !== undefined || u.roleName !== undefined, 'give roleId or roleName');
export type CreateUser = z.infer<typeof CreateUser>;

export const UpdateUser = z
  .object({
    username: Username.optional(),
    email: Email.nullable().optional(),
    password: Password.optional(),
    roleId: z.string().optional(),
    roleName: RoleName.optional(),
  })
  .strict();
export type UpdateUser = z.infer<typeof UpdateUser>;

export const UserView = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  role: z.object({ id: z.string(), name: z.string() }),
  permissions: z.array(z.string()),
  createdAt: z.string(),
});
export type UserView = z.infer<typeof UserView>;

/** An SSH public key for SFTP logins: one OpenSSH line (`ssh-ed25519 AAAA... comment`). */
export const SshKeyCreate = z.object({ name: z.string().min(1).max(100).optional(), publicKey: z.string().min(20).max(16_384) }).strict();
export const SshKeyView = z.object({ id: z.string(), name: z.string(), type: z.string(), fingerprint: z.string(), createdAt: z.string() });
export type SshKeyView = z.infer<typeof SshKeyView>;
