import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from '@edgehook/shared/zod';
import { decodeJson, MqttCredentials } from '@edgehook/shared';

/** What enrollment leaves in the state dir: enough to reconnect without a token. */
export const SavedCredentials = z.object({
  deviceId: z.string().check(z.minLength(1)),
  name: z.string(),
  server: z.string(),
  mqtt: MqttCredentials,
  enrolledAt: z.string(),
  /** The control plane's agent-package signing key (base64 SPKI), pinned at enrollment. */
  packageKey: z.optional(z.string().check(z.maxLength(200))),
});
export type SavedCredentials = z.infer<typeof SavedCredentials>;

export class CredentialsStore {
  readonly path: string;
  constructor(private readonly stateDir: string) {
    this.path = join(stateDir, 'credentials.json');
  }

  /** undefined when there is none; an error when the file exists but is damaged. */
  async load(): Promise<SavedCredentials | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined;
      throw err;
    }
    const decoded = decodeJson(SavedCredentials, text);
    if (!decoded.ok) throw new Error(`${this.path} is damaged (${decoded.error}); delete it and enroll again`);
    return decoded.value;
  }

  /** Written 0600 and renamed into place, so a crash never leaves half a secret. */
  async save(creds: SavedCredentials): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.path);
  }

  async clear(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
