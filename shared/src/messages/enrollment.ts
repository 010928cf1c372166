import * as z from '../zod.js';
import { Tags } from './device.js';

export const CreateEnrollmentToken = z.strictObject({
    /** Lifetime in seconds (default one day, at most a year). */
    expiresIn: z._default(z.number().check(z.int(), z.gte(1), z.lte(366 * 24 * 3600)), 24 * 3600),
    maxUses: z._default(z.number().check(z.int(), z.gte(1), z.lte(1_000_000)), 1),
    tags: z._default(Tags, []),
    note: z.optional(z.string().check(z.maxLength(200))),
  });
export type CreateEnrollmentToken = z.infer<typeof CreateEnrollmentToken>;

export const EnrollmentTokenView = z.object({
  id: z.string(),
  expiresAt: z.string(),
  maxUses: z.number(),
  uses: z.number(),
  tags: z.array(z.string()),
  note: z.nullable(z.string()),
  createdAt: z.string(),
  revoked: z.boolean(),
});
export type EnrollmentTokenView = z.infer<typeof EnrollmentTokenView>;

/** The one-command agent install a device runs; the token goes to the script on stdin or from a file, never argv. */
export const InstallCommand = z.object({
  command: z.string(),
  serverUrl: z.string(),
  /** Set when the certificate is self-signed: the device pins it. */
  fingerprint: z.optional(z.string()),
  warnings: z.array(z.string()),
});
export type InstallCommand = z.infer<typeof InstallCommand>;

/** Returned once, when the token is created: the secret is never shown again. */
export const CreatedEnrollmentToken = z.extend(EnrollmentTokenView, { token: z.string(), install: z.optional(InstallCommand) });
export type CreatedEnrollmentToken = z.infer<typeof CreatedEnrollmentToken>;

export const MqttCredentials = z.object({
  url: z.string(),
  wsUrl: z.string(),
  username: z.string(),
  password: z.string(),
});
export type MqttCredentials = z.infer<typeof MqttCredentials>;

/** `packageKey`: the control plane's agent-package signing key (base64 SPKI), which the device pins for updates. */
export const EnrollResponse = z.object({ deviceId: z.string(), name: z.string(), mqtt: MqttCredentials, packageKey: z.optional(z.string().check(z.maxLength(200))) });
export type EnrollResponse = z.infer<typeof EnrollResponse>;

/**
 * `POST /api/enroll/reprovision`: a device whose broker refuses its credentials (the broker's data
 * was lost or restored from an old backup) proves who it is with its own secret over HTTPS, and the
 * control plane gives the identity back to the broker. Never re-enables a disabled device.
 */
export const ReprovisionRequest = z.strictObject({ deviceId: z.string().check(z.minLength(1), z.maxLength(64)), secret: z.string().check(z.minLength(16), z.maxLength(256)) });
export type ReprovisionRequest = z.infer<typeof ReprovisionRequest>;
/** `restored`: the broker had lost it and has it again; `present`: it had it all along (the refusal is something else). */
export const ReprovisionResponse = z.object({ identity: z.enum(['restored', 'present']) });
export type ReprovisionResponse = z.infer<typeof ReprovisionResponse>;
