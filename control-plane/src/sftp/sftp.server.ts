import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Kysely } from 'kysely';
import type { Connection, Server as SshServer, SFTPWrapper } from 'ssh2';
import type { Clock, Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { toPrincipal, type Authenticator } from '../auth/authenticator.js';
import type { LiveSockets } from '../auth/live-sockets.js';
import type { RpcClient } from '../devices/rpc.client.js';
import type { StreamRelay } from '../streams/stream-relay.js';
import { hasSshKey } from '../users/ssh-keys.repository.js';
import { mayUseFiles, resolveLogin, type SftpTarget } from './sftp-login.js';
import { serveSftp } from './sftp-session.js';

export interface SftpDeps {
  db: Kysely<Database>;
  auth: Authenticator;
  rpc: RpcClient;
  relay: StreamRelay;
  clock: Clock;
  log: Logger;
  /** A connection ends with its user's credentials, role grant or device (revocations). */
  sockets: LiveSockets;
}

export interface RunningSftp {
  port: number;
  close(): Promise<void>;
}

/** The host key, made once (ed25519) and kept 0600 in the data directory. */
async function hostKey(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    const { utils } = (await import('ssh2')).default;
    const pair = utils.generateKeyPairSync('ed25519', { comment: 'edgehook sftp host key' });
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, pair.private, { mode: 0o600, flag: 'wx' }).catch(async (err: unknown) => {
      if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
    });
    return readFile(path, 'utf8');
  }
}

/**
 * SFTP into servers (Skyhook's SFTP server, Wings' login scheme): `<user>.<server>@<device>` with
 * the Edgehook password or a registered SSH key, permission containers.files. Every operation is
 * the confined file service of that server, over RPC and the stream relay (docs/sftp.md).
 */
export async function startSftpServer(deps: SftpDeps, opts: { host: string; port: number; hostKeyPath: string }): Promise<RunningSftp> {
  const { Server, utils } = (await import('ssh2')).default;
  const key = await hostKey(opts.hostKeyPath);
  const connections = new Set<Connection>();

  const server: SshServer = new Server({ hostKeys: [key], ident: 'Edgehook' }, (client, info) => {
    connections.add(client);
    let target: SftpTarget | undefined;
    let unregister = (): void => undefined;
    // Revocations after this instant (while the login is checked) still end the connection.
    const since = deps.sockets.now();
    client.on('close', () => {
      connections.delete(client);
      unregister();
    });
    client.on('error', (err) => deps.log.debug('sftp connection error', { err: err.message }));
    client.on('authentication', (ctx) => {
      void (async () => {
        const found = await resolveLogin(deps.db, ctx.username);
        if (!found || !mayUseFiles(found.user)) return ctx.reject(['password', 'publickey']);
        if (ctx.method === 'password') {
          // The one login door every password goes through (throttle, second factor appended).
          const user = await deps.auth.login({ login: found.user.username, password: ctx.password, address: info.ip, codeMayBeAppended: true }).catch(() => undefined);
          if (!user || user.id !== found.user.id) return ctx.reject(['password', 'publickey']);
          target = found;
          return ctx.accept();
        }
        if (ctx.method === 'publickey') {
          if (!(await hasSshKey(deps.db, found.user.id, ctx.key.data))) return ctx.reject(['password', 'publickey']);
          // Without a signature the client only asks whether the key would do.
          if (!ctx.signature || !ctx.blob) return ctx.accept();
          const parsed = utils.parseKey(`${blobType(ctx.key.data)} ${ctx.key.data.toString('base64')}`);
          if (parsed instanceof Error || !sameBlob(parsed.getPublicSSH(), ctx.key.data) || !parsed.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) return ctx.reject(['password', 'publickey']);
          target = found;
          return ctx.accept();
        }
        return ctx.reject(['password', 'publickey']);
      })().catch((err: unknown) => {
        deps.log.warn('sftp authentication failed', { err: err instanceof Error ? err.message : String(err) });
        ctx.reject();
      });
    });
    client.on('ready', () => {
      const who = target;
      if (!who) return client.end();
      deps.log.info('sftp login', { user: who.user.username, deviceId: who.deviceId, server: who.server });
      unregister = deps.sockets.registerHandle(
        {
          principal: toPrincipal(who.user, null),
          permission: 'containers.files',
          deviceId: who.deviceId,
          end: (_code, reason) => {
            deps.log.info('sftp connection revoked', { user: who.user.username, reason });
            client.end();
          },
        },
        since,
      );
      client.on('session', (accept) => {
        const session = accept();
        session.on('sftp', (acceptSftp) => serveSftp(deps, who, acceptSftp() satisfies SFTPWrapper));
        // No shells or commands: only the sftp subsystem.
        session.on('exec', (_a, reject) => reject());
        session.on('shell', (_a, reject) => reject());
        session.on('pty', (_a, reject) => reject?.());
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? (address satisfies AddressInfo).port : opts.port;
  deps.log.info('sftp listening', { port });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.end();
        server.close(() => resolve());
      }),
  };
}

/** A key blob starts with its own type name (`ssh-ed25519`, `ssh-rsa` ...). */
function blobType(blob: Buffer): string {
  const n = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  return n > 0 && 4 + n <= blob.length ? blob.toString('latin1', 4, 4 + n) : '';
}
const sameBlob = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);
