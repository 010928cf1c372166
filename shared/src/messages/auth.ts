import * as z from '../zod.js';
import { isValidGrant } from '../permissions.js';
import { PASSWORD_MAX_LENGTH, passwordProblem } from '../password-policy.js';

export const Username = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'use 1-64 letters, digits, "_", ".", "@" or "-"'));
/** A new password: the policy (length, common passwords) is checked where passwords are set. */
export const Password = z.string().check(z.maxLength(PASSWORD_MAX_LENGTH), z.superRefine((p, ctx) => {
  const problem = passwordProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}));
export const Email = z.email().check(z.maxLength(254));

/** JSON login as Encedeus clients send it: username or email, and password. */
export const LoginJson = z.object({
    username: z.optional(z.string().check(z.minLength(1), z.maxLength(254))),
    email: z.optional(z.string().check(z.minLength(1), z.maxLength(254))),
    password: z.string().check(z.minLength(1), z.maxLength(256)),
    /** The second factor: a 6-digit TOTP code or a recovery code. */
    totp: z.optional(z.string().check(z.minLength(1), z.maxLength(32))),
  }).check(z.refine((b) => b.username !== undefined || b.email !== undefined, 'give username or email'));

/** Form login as PiKVM clients send it. */
export const LoginForm = z.object({ user: z.string().check(z.minLength(1), z.maxLength(254)), passwd: z.string().check(z.minLength(1), z.maxLength(256)) });

export const TokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  /** Seconds until the access token expires. */
  expiresIn: z.number(),
  /** The role requires a second factor not yet enrolled: only /api/auth/totp/* works until then. */
  totpEnrollmentRequired: z.optional(z.boolean()),
});
export type TokenPair = z.infer<typeof TokenPair>;

export const PermissionGrant = z.string().check(z.refine(isValidGrant, 'unknown permission'));
export const RoleName = z.string().check(z.regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'role names are lower-case, 1-64 characters'));

export const CreateRole = z.strictObject({ name: RoleName, permissions: z.array(PermissionGrant).check(z.maxLength(100)), requireTotp: z.optional(z.boolean()) });
export const UpdateRole = z.strictObject({ name: z.optional(RoleName), permissions: z.optional(z.array(PermissionGrant).check(z.maxLength(100))), requireTotp: z.optional(z.boolean()) });
export const RoleView = z.object({ id: z.string(), name: z.string(), permissions: z.array(z.string()), builtin: z.boolean(), requireTotp: z.optional(z.boolean()) });
export type RoleView = z.infer<typeof RoleView>;

export const CreateUser = z.strictObject({
    username: Username,
    email: z.optional(Email),
    password: Password,
    roleId: z.optional(z.string()),
    roleName: z.optional(RoleName),
  }).check(z.refine((u) => u.roleId !== undefined || u.roleName !== undefined, 'give roleId or roleName'));
export type CreateUser = z.infer<typeof CreateUser>;

export const UpdateUser = z.strictObject({
    username: z.optional(Username),
    email: z.optional(z.nullable(Email)),
    password: z.optional(Password),
    /** Required when changing one's own password. */
    currentPassword: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    roleId: z.optional(z.string()),
    roleName: z.optional(RoleName),
  });
export type UpdateUser = z.infer<typeof UpdateUser>;

export const UserView = z.object({
  id: z.string(),
  username: z.string(),
  email: z.nullable(z.string()),
  role: z.object({ id: z.string(), name: z.string() }),
  permissions: z.array(z.string()),
  createdAt: z.string(),
  /** Second factor: enrolled or not, required by the role, recovery codes left. */
  totp: z.optional(z.object({ enabled: z.boolean(), requiredByRole: z.boolean(), recoveryCodesLeft: z.number() })),
});
export type UserView = z.infer<typeof UserView>;

/** `POST /api/auth/totp/verify` and `DELETE /api/auth/totp`: a current code from the app. */
export const TotpCode = z.strictObject({ code: z.string().check(z.regex(/^\d{6}$/, 'a 6-digit code')) });
export const TotpDisable = z.strictObject({ code: z.optional(z.string().check(z.minLength(1), z.maxLength(32))), password: z.optional(z.string().check(z.minLength(1), z.maxLength(256))) });
export const TotpEnrollment = z.object({ secret: z.string(), uri: z.string() });
export type TotpEnrollment = z.infer<typeof TotpEnrollment>;
export const TotpActivated = z.object({ ok: z.literal(true), recoveryCodes: z.array(z.string()) });
export type TotpActivated = z.infer<typeof TotpActivated>;
/** An SSH public key for SFTP logins: one OpenSSH line (`ssh-ed25519 AAAA... comment`). */
export const SshKeyCreate = z.strictObject({ name: z.optional(z.string().check(z.minLength(1), z.maxLength(100))), publicKey: z.string().check(z.minLength(20), z.maxLength(16_384)) });
export const SshKeyView = z.object({ id: z.string(), name: z.string(), type: z.string(), fingerprint: z.string(), createdAt: z.string() });
export type SshKeyView = z.infer<typeof SshKeyView>;
