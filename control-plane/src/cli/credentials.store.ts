import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import * as z from '@edgehook/shared/zod';
import { decodeJson } from '@edgehook/shared';
import { ServerFingerprint } from '@edgehook/shared/transport';
import { CliError } from './errors.js';

/** What `edgehook login` leaves behind for the other commands. */
export const StoredCredentials = z.object({
  server: z.string(),
  username: z.string(),
  accessToken: z.string(),
  refreshToken: z.string(),
  /** ISO time; the access token is refreshed shortly before it. */
  accessExpiresAt: z.string().check(z.refine((s) => !Number.isNaN(Date.parse(s)), 'not a date')),
  /** How this HTTPS server is trusted (login --ca / --fingerprint), remembered with the login. */
  tls: z.optional(z.object({ ca: z.optional(z.string()), fingerprint: z.optional(ServerFingerprint) })),
});
export type StoredCredentials = z.infer<typeof StoredCredentials>;

/** `EDGEHOOK_CONFIG_DIR`, else `$XDG_CONFIG_HOME/edgehook`, else `~/.config/edgehook`. */
export function configDir(env: NodeJS.ProcessEnv, homedir: () => string): string {
  const explicit = env['EDGEHOOK_CONFIG_DIR'];
  if (explicit) return explicit;
  // The XDG spec says relative values are invalid and must be ignored.
  const xdg = env['XDG_CONFIG_HOME'];
  if (xdg && isAbsolute(xdg)) return join(xdg, 'edgehook');
  return join(homedir(), '.config', 'edgehook');
}

function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

/**
 * Left behind by a command that died (Ctrl-C mid-refresh): its process is gone, or it is
 * older than any refresh can take (request timeouts included).
 */
async function lockIsStale(lockPath: string, now: number): Promise<boolean> {
  const [info, owner] = await Promise.all([stat(lockPath).catch(() => null), readFile(lockPath, 'utf8').catch(() => '')]);
  if (!info) return false;
  if (now - info.mtimeMs > 40_000) return true;
  const pid = Number(owner);
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);
}

export interface CredentialsStore {
  readonly path: string;
  load(): Promise<StoredCredentials | null>;
  save(credentials: StoredCredentials): Promise<void>;
  clear(): Promise<void>;
  /**
   * Runs `fn` while holding a lock file. Refresh tokens rotate and a reused one revokes the
   * session, so two commands refreshing at once must take turns.
   */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
}

export function credentialsStore(dir: string, now: () => number): CredentialsStore {
  const path = join(dir, 'credentials.json');
  const lockPath = join(dir, 'credentials.lock');
  const ensureDir = () => mkdir(dir, { recursive: true, mode: 0o700 });

  return {
    path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return null;
        throw new CliError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const decoded = decodeJson(StoredCredentials, text);
      if (!decoded.ok) throw new CliError(`${path} is damaged (${decoded.error}); log in again with: edgehook login --server URL`);
      return decoded.value;
    },

    async save(credentials) {
      await ensureDir();
      // Write a private temp file and rename it: readers never see half a file, and the
      // tokens are never readable by others, not even for a moment.
      const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(credentials, null, 2) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },

    async clear() {
      await rm(path, { force: true });
    },

    async withLock(fn) {
      await ensureDir();
      const deadline = now() + 45_000;
      for (;;) {
        try {
          const handle = await open(lockPath, 'wx', 0o600);
          await handle.writeFile(String(process.pid));
          await handle.close();
          break;
        } catch (err) {
          if (errorCode(err) !== 'EEXIST') throw err;
        }
        if (await lockIsStale(lockPath, now())) {
          await rm(lockPath, { force: true });
          continue;
        }
        if (now() > deadline) throw new CliError(`another edgehook command holds ${lockPath}; try again, or delete the file if none is running`);
        await sleep(100);
      }
      try {
        return await fn();
      } finally {
        await rm(lockPath, { force: true });
      }
    },
  };
}
