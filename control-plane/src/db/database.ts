import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * The schema as kysely sees it. Dialect-neutral on purpose (SQLite today, Postgres later):
 * ids are text UUIDs made in JS, times ISO-8601 UTC text, booleans 0/1, JSON as text.
 */
export interface Database {
  roles: RolesTable;
  users: UsersTable;
  sessions: SessionsTable;
  auth_tokens: AuthTokensTable;
  enrollment_tokens: EnrollmentTokensTable;
  devices: DevicesTable;
  declared_servers: DeclaredServersTable;
  login_throttle: LoginThrottleTable;
  audit_log: AuditLogTable;
  user_avatars: UserAvatarsTable;
  user_ssh_keys: UserSshKeysTable;
  vpn_peers: VpnPeersTable;
  perfkit_desired: PerfkitDesiredTable;
  perfkit_patches: PerfkitPatchesTable;
  perfkit_schemas: PerfkitSchemasTable;
  wsi_tokens: WsiTokensTable;
  jobs: JobsTable;
  job_devices: JobDevicesTable;
}

/** Perfkit configs (control-plane/src/perfkit/): desired value per entry, JSON text. */
export interface PerfkitDesiredTable {
  device_id: string;
  scope: string;
  key: string;
  value: string;
  version: number;
  seq: number;
  updated_at: string;
  updated_by: string | null;
}

/** Every change of a desired value, in order per device. */
export interface PerfkitPatchesTable {
  device_id: string;
  seq: number;
  scope: string;
  key: string;
  value: string;
  version: number;
  at: string;
  by: string | null;
}

/** The last config declaration a device reported per scope (JSON ConfigClassDecl[]). */
export interface PerfkitSchemasTable {
  device_id: string;
  scope: string;
  classes: string;
  updated_at: string;
}

/** A Quix WSI backend's token (control-plane/src/wsi/): hashed, one device, the account that signed it in. */
export interface WsiTokensTable {
  id: string;
  token_hash: string;
  device_id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

/** One operator action (control-plane/src/audit/). */
export interface AuditLogTable {
  id: string;
  at: string;
  actor_id: string | null;
  actor: string | null;
  source: string | null;
  action: string;
  device_id: string | null;
  target: string | null;
  result: string;
  status: number | null;
  detail: string | null;
  replica: string;
}

export interface RolesTable {
  id: string;
  name: string;
  permissions: string;
  builtin: number;
  created_at: string;
  /** 1: members must have a second factor before any permission applies. */
  require_totp: Generated<number>;
}

export interface UsersTable {
  id: string;
  username: string;
  email: string | null;
  password_hash: string;
  role_id: string;
  created_at: string;
  updated_at: string;
  /** Base32 TOTP secret once enrolled and verified; null without a second factor. */
  totp_secret: string | null;
  /** A secret handed out by enroll, waiting for its first code. */
  totp_pending: string | null;
  /** JSON array of sha256 hashes of unused recovery codes. */
  recovery_codes: string | null;
  /** The last TOTP time step accepted: a code is never accepted twice. */
  totp_last_step: number | string | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

export interface AuthTokensTable {
  /** sha256 of the token: the token itself is never stored. */
  hash: string;
  session_id: string;
  /** access, refresh, or console:<deviceId>/<container> (a Wings console token scoped to one console). */
  kind: string;
  expires_at: string;
  /** Set when a refresh token was exchanged: presenting it again means it leaked. */
  used_at: string | null;
}

export interface EnrollmentTokensTable {
  id: string;
  token_hash: string;
  expires_at: string;
  max_uses: number;
  uses: Generated<number>;
  tags: string;
  note: string | null;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface DevicesTable {
  id: string;
  name: string;
  secret_hash: string;
  hostname: string;
  profile: string;
  agent_version: string;
  hardware: string | null;
  system: string | null;
  tags: string;
  online: Generated<number>;
  /** The agent session whose `online` we last applied: a stale will from an older session is ignored. */
  presence_session: string | null;
  last_seen: string | null;
  created_at: string;
  enrollment_token_id: string | null;
  /** 'mqtt' (our agent) or 'wsi' (a Quix WSI backend on /wsi): devices/device-transport.ts. */
  transport: Generated<string>;
}

export type RoleRow = Selectable<RolesTable>;
export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type DeviceRow = Selectable<DevicesTable>;
export type NewDevice = Insertable<DevicesTable>;
export type EnrollmentTokenRow = Selectable<EnrollmentTokensTable>;

export interface DeclaredServersTable {
  device_id: string;
  /** JSON array of DeclaredServer. */
  servers: string;
  revision: number;
  updated_at: string;
  updated_by: string | null;
  /** JSON ApplyResult of the last apply the device reported, for `last_apply_revision`. */
  last_apply: string | null;
  last_apply_revision: number | null;
  last_apply_at: string | null;
  /** The device connection (presence session) whose reconnect a replica claimed to apply the set for. */
  reconciled_session: string | null;
}

export interface LoginThrottleTable {
  /** `account:<login>` or `address:<ip>`. */
  key: string;
  failures: number;
  /** Epoch ms; bigint comes back as a string from PostgreSQL. */
  first_failure_at: number | string;
  locked_until: number | string;
}

export interface UserAvatarsTable {
  user_id: string;
  mime: string;
  /** Strong ETag over the bytes. */
  etag: string;
  /** The image, base64. */
  data: string;
  updated_at: string;
}

export interface UserSshKeysTable {
  id: string;
  user_id: string;
  name: string;
  /** The OpenSSH public key line: `<type> <base64> [comment]`. */
  public_key: string;
  /** `SHA256:<base64>` of the key blob, as ssh-keygen -l prints it. */
  fingerprint: string;
  created_at: string;
}

/** A device's WireGuard peer (vpn/): its address in the pool and its public key, never a private key. */
export interface VpnPeersTable {
  device_id: string;
  /** The pool (CIDR) the index counts in: a changed --vpn-subnet re-addresses devices. */
  subnet: string;
  address_index: number;
  address: string;
  public_key: string | null;
  key_source: string | null;
  issued_at: string | null;
  /** The agent's last VpnAgentStatus, JSON. */
  status: string | null;
  status_at: string | null;
  created_at: string;
}

/** One job (control-plane/src/jobs/); JSON columns hold the validated request parts. */
export interface JobsTable {
  id: string;
  kind: string;
  operation: string;
  selection: string;
  rollout: string;
  state: string;
  message: string | null;
  created_by: string | null;
  created_at: string;
  expires_at: string;
  finished_at: string | null;
  /** The highest batch released so far (0-based). */
  batch: number;
  batches: number;
  /** When every released batch had settled: the pause before the next one counts from here. */
  batch_settled_at: string | null;
}

/** One device's run of a job. */
export interface JobDevicesTable {
  job_id: string;
  device_id: string;
  device_name: string;
  batch: number;
  status: string;
  /** The replica running it, and until when its claim holds unless renewed. */
  owner: string | null;
  lease_until: string | null;
  exit_code: number | null;
  output: string | null;
  message: string | null;
  started_at: string | null;
  finished_at: string | null;
}
