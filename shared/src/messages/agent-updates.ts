import * as z from '../zod.js';

/**
 * Agent versions: MAJOR.MINOR.PATCH with an optional pre-release (`1.2.0-rc.1`). They name a
 * directory on the device (`<install>/versions/<v>/`) and a URL segment, so nothing else.
 */
export const AgentVersion = z.string().check(z.maxLength(64), z.regex(/^\d{1,6}\.\d{1,6}\.\d{1,6}(-[0-9A-Za-z][0-9A-Za-z.-]{0,40})?$/, 'a version is MAJOR.MINOR.PATCH with an optional -pre-release, e.g. 1.4.0 or 1.4.0-rc.1'));
export type AgentVersion = z.infer<typeof AgentVersion>;

const numeric = (v: string): number[] => (v.split('-')[0] ?? '').split('.').map(Number);

/** Semver order (pre-releases before their release, then by text): < 0, 0, > 0. */
export function compareAgentVersions(a: string, b: string): number {
  const [x, y] = [numeric(a), numeric(b)];
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  const [pa, pb] = [a.includes('-') ? a.slice(a.indexOf('-') + 1) : undefined, b.includes('-') ? b.slice(b.indexOf('-') + 1) : undefined];
  if (pa === pb) return 0;
  if (pa === undefined) return 1;
  if (pb === undefined) return -1;
  return pa < pb ? -1 : 1;
}

export const Sha256Hex = z.string().check(z.regex(/^[0-9a-f]{64}$/, 'a SHA-256 is 64 lower-case hex digits'));
/** An ed25519 signature (64 bytes), base64. */
export const PackageSignature = z.string().check(z.regex(/^[A-Za-z0-9+/]{86}==$/, 'a signature is 64 bytes of base64'));
/** The control plane's ed25519 public key, base64 of its SPKI DER (44 bytes). */
export const PackageSigningKey = z.string().check(z.regex(/^[A-Za-z0-9+/]{59}[A-Za-z0-9+/=]$/, 'a signing key is base64 of an ed25519 SPKI'));

/**
 * What the control plane signs for a package: its version and its SHA-256, so a signature can
 * neither cover other bytes nor make an old package pass as another version.
 */
export function packageSignedText(version: string, sha256: string): string {
  return `edgehook-agent-package\nversion=${version}\nsha256=${sha256}\n`;
}

/** One published agent package. */
export const AgentPackageView = z.object({
  version: AgentVersion,
  sha256: Sha256Hex,
  size: z.number().check(z.int(), z.positive()),
  signature: PackageSignature,
  /** `built`: the package this control plane was built with (agent/dist-package); `published`: added with `edgehook agent publish`. */
  source: z.enum(['built', 'published']),
  publishedAt: z.string(),
  /** Where devices download it (relative to the control plane's URL). */
  path: z.string(),
});
export type AgentPackageView = z.infer<typeof AgentPackageView>;

export const AgentPackageList = z.object({
  signingKey: PackageSigningKey,
  latest: z.nullable(AgentVersion),
  packages: z.array(AgentPackageView),
});
export type AgentPackageList = z.infer<typeof AgentPackageList>;

/** The largest package `edgehook agent publish` accepts (the built one is about 300 KB). */
export const AGENT_PACKAGE_MAX_BYTES = 64 * 1024 * 1024;

/** `POST /api/devices/:id/agent/update`: no version means the newest published one. */
export const AgentUpdateBody = z.strictObject({ version: z.optional(AgentVersion) });
export type AgentUpdateBody = z.infer<typeof AgentUpdateBody>;

/** How an update ended: `rolled-back` means the new version failed its probation and the previous runs again. */
export const AgentUpdateOutcome = z.object({
  status: z.enum(['succeeded', 'failed', 'rolled-back']),
  version: z.string(),
  message: z.optional(z.string()),
});
export type AgentUpdateOutcome = z.infer<typeof AgentUpdateOutcome>;

/** The device's update state file (`<install>/update.json`), as `agent.updateStatus` reports it. */
export const AgentUpdateState = z.object({
  /** `probation`: the new version started and has not yet reached the control plane. */
  state: z.enum(['none', 'probation', 'confirmed', 'rolled-back']),
  running: z.string(),
  from: z.optional(z.string()),
  to: z.optional(z.string()),
  reason: z.optional(z.string().check(z.maxLength(500))),
  at: z.optional(z.number().check(z.int(), z.nonnegative())),
});
export type AgentUpdateState = z.infer<typeof AgentUpdateState>;

export const agentUpdateRpcDefinitions = {
  /**
   * Download `/downloads/agent/<version>/edgehook-agent.tgz` from the server the device enrolled
   * with, check size, SHA-256 and signature (against the key pinned at enrollment), unpack beside
   * the running version, switch to it and restart (answered before the restart).
   */
  'agent.update': {
    params: z.strictObject({
        version: AgentVersion,
        sha256: Sha256Hex,
        size: z.number().check(z.int(), z.positive(), z.lte(AGENT_PACKAGE_MAX_BYTES)),
        signature: PackageSignature,
        signingKey: PackageSigningKey,
        /** How long the new version has to reach the control plane before it is rolled back. */
        probationMs: z.number().check(z.int(), z.gte(2000), z.lte(3_600_000)),
      }),
    result: z.object({ restarting: z.literal(true), from: z.string(), to: AgentVersion }),
  },
  'agent.updateStatus': { params: z.strictObject({}), result: AgentUpdateState },
} as const;
