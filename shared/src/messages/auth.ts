import { z } from 'zod';
import { isValidGrant } from '../permissions.js';
import { PASSWORD_MAX_LENGTH, passwordProblem } from '../password-policy.js';

export const Username = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'use 1-64 letters, digits, "_", ".", "@" or "-"');
/** A new password: the policy (length, common passwords) is checked where passwords are set. */
export const Password = z.string().max(PASSWORD_MAX_LENGTH).superRefine((p, ctx) => {
  const problem = passwordProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
export const Email = z.email().max(254);

/** JSON login as Encedeus clients send it: username or email, and password. */
export const LoginJson = z
  .object({
    username: z.string().min(1).max(254).optional(),
    email: z.string().min(1).max(254).optional(),
    password: z.string().min(1).max(256),
    /** The second factor: a 6-digit TOTP code or a recovery code. */
    totp: z.string().min(1).max(32).optional(),
  })
  .refine((b) => b.username !== undefined || b.email !== undefined, 'give username or email');

/** Form login as PiKVM clients send it. */
export const LoginForm = z.object({ user: z.string().min(1).max(254), passwd: z.string().min(1).max(256) });

export const TokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  /** Seconds until the access token expires. */
  expiresIn: z.number(),
  /** The role requires a second factor not yet enrolled: only /api/auth/totp/* works until then. */
  totpEnrollmentRequired: z.boolean().optional(),
});
export type TokenPair = z.infer<typeof TokenPair>;

export const PermissionGrant = z.string().refine(isValidGrant, 'unknown permission');
export const RoleName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'role names are lower-case, 1-64 characters');

export const CreateRole = z.object({ name: RoleName, permissions: z.array(PermissionGrant).max(100), requireTotp: z.boolean().optional() }).strict();
export const UpdateRole = z
  .object({ name: RoleName.optional(), permissions: z.array(PermissionGrant).max(100).optional(), requireTotp: z.boolean().optional() })
  .strict();
export const RoleView = z.object({ id: z.string(), name: z.string(), permissions: z.array(z.string()), builtin: z.boolean(), requireTotp: z.boolean().optional() });
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
    /** Required when changing one's own password. */
    currentPassword: z.string().min(1).max(256).optional(),
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
  /** Second factor: enrolled or not, required by the role, recovery codes left. */
  totp: z.object({ enabled: z.boolean(), requiredByRole: z.boolean(), recoveryCodesLeft: z.number() }).optional(),
});
export type UserView = z.infer<typeof UserView>;

/** `POST /api/auth/totp/verify` and `DELETE /api/auth/totp`: a current code from the app. */
export const TotpCode = z.object({ code: z.string().regex(/^\d{6}$/, 'a 6-digit code') }).strict();
export const TotpDisable = z.object({ code: z.string().min(1).max(32).optional(), password: z.string().min(1).max(256).optional() }).strict();
export const TotpEnrollment = z.object({ secret: z.string(), uri: z.string() });
export type TotpEnrollment = z.infer<typeof TotpEnrollment>;
export const TotpActivated = z.object({ ok: z.literal(true), recoveryCodes: z.array(z.string()) });
export type TotpActivated = z.infer<typeof TotpActivated>;
/** An SSH public key for SFTP logins: one OpenSSH line (`ssh-ed25519 AAAA... comment`). */
export const SshKeyCreate = z.object({ name: z.string().min(1).max(100).optional(), publicKey: z.string().min(20).max(16_384) }).strict();
export const SshKeyView = z.object({ id: z.string(), name: z.string(), type: z.string(), fingerprint: z.string(), createdAt: z.string() });
export type SshKeyView = z.infer<typeof SshKeyView>;
