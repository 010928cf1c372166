import type { Attributes, SFTPWrapper } from 'ssh2';
import { ContainerStreamKinds, EdgehookError, type FileEntry } from '@edgehook/shared';
import { displayPath, SftpReader, SftpWriter, sftpPath } from './sftp-handles.js';
import type { SftpTarget } from './sftp-login.js';
import type { SftpDeps } from './sftp.server.js';

// SFTP v3 numbers (draft-ietf-secsh-filexfer-02), as ssh2's utils.sftp has them.
const OPEN = { READ: 0x01, WRITE: 0x02, APPEND: 0x04 } as const;
const STATUS = { OK: 0, EOF: 1, NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4, OP_UNSUPPORTED: 8 } as const;
const TYPE_BITS: Record<FileEntry['type'], number> = { file: 0o100000, directory: 0o040000, symlink: 0o120000, other: 0o100000 };
const QUICK = { timeoutMs: 15_000 };
const MAX_HANDLES = 64;

type Handle = { kind: 'read'; path: string; reader: SftpReader } | { kind: 'write'; path: string; writer: SftpWriter } | { kind: 'dir'; path: string; listed: boolean };

function attrsOf(e: FileEntry): Attributes {
  const t = Math.floor(e.modifiedAt / 1000);
  return { mode: TYPE_BITS[e.type] | parseInt(e.mode, 8), uid: 0, gid: 0, size: e.size, atime: t, mtime: t };
}

function longname(e: FileEntry): string {
  const perms = parseInt(e.mode, 8);
  const rwx = [6, 3, 0].map((s) => ['r', 'w', 'x'].map((ch, i) => ((perms >> (s + 2 - i)) & 1 ? ch : '-')).join('')).join('');
  const date = new Date(e.modifiedAt).toISOString().slice(0, 16).replace('T', ' ');
  return `${e.type === 'directory' ? 'd' : e.type === 'symlink' ? 'l' : '-'}${rwx} 1 edgehook edgehook ${String(e.size).padStart(10)} ${date} ${e.name}`;
}

/** The SFTP requests of one session, each onto the server's confined file service on the device. */
export function serveSftp(deps: SftpDeps, target: SftpTarget, sftp: SFTPWrapper): void {
  const { rpc, relay } = deps;
  const { deviceId, server } = target;
  const handles = new Map<string, Handle>();
  let nextHandle = 1;

  const fail = (reqId: number, err: unknown): void => {
    const code = err instanceof EdgehookError ? (err.code === 'NOT_FOUND' ? STATUS.NO_SUCH_FILE : err.code === 'FORBIDDEN' ? STATUS.PERMISSION_DENIED : STATUS.FAILURE) : STATUS.FAILURE;
    sftp.status(reqId, code, err instanceof Error ? err.message : String(err));
  };
  const run = (reqId: number, work: () => Promise<void>): void => void work().catch((err: unknown) => fail(reqId, err));
  const stat = (path: string) => rpc.call(deviceId, 'files.stat', { server, path: sftpPath(path) }, QUICK);
  const addHandle = (h: Handle): Buffer => {
    if (handles.size >= MAX_HANDLES) throw new EdgehookError('CONFLICT', `at most ${MAX_HANDLES} open handles`);
    const id = String(nextHandle++);
    handles.set(id, h);
    return Buffer.from(id);
  };
  const handleOf = (reqId: number, raw: Buffer): Handle | undefined => {
    const h = handles.get(raw.toString());
    if (!h) sftp.status(reqId, STATUS.FAILURE, 'unknown handle');
    return h;
  };

  sftp.on('REALPATH', (reqId, path) => sftp.name(reqId, [{ filename: displayPath(path), longname: displayPath(path), attrs: { mode: TYPE_BITS.directory | 0o755, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 } }]));
  sftp.on('STAT', (reqId, path) => run(reqId, async () => sftp.attrs(reqId, attrsOf(await stat(path)))));
  sftp.on('LSTAT', (reqId, path) => run(reqId, async () => sftp.attrs(reqId, attrsOf(await stat(path)))));

  sftp.on('OPEN', (reqId, filename, flags) => run(reqId, async () => {
    const path = sftpPath(filename);
    if (flags & OPEN.APPEND || (flags & OPEN.READ && flags & OPEN.WRITE)) return void sftp.status(reqId, STATUS.OP_UNSUPPORTED, 'only whole-file reads or writes (no append, no read-write)');
    if (flags & OPEN.WRITE) {
      const writer = new SftpWriter();
      writer.stream = relay.open(deviceId, ContainerStreamKinds.fileWrite, { server, path }, { onData: (d) => writer.stream.consumed(d.length), onEnd: (r) => writer.onEnd(r), onError: (e) => writer.onError(e) });
      await writer.stream.opened;
      return void sftp.handle(reqId, addHandle({ kind: 'write', path, writer }));
    }
    const entry = await stat(path);
    if (entry.type === 'directory') throw new EdgehookError('BAD_REQUEST', `${path} is a directory`);
    const reader = new SftpReader(entry.size);
    reader.stream = relay.open(deviceId, ContainerStreamKinds.fileRead, { server, path }, { onData: (d) => reader.onData(d), onEnd: (r) => reader.onEnd(r), onError: (e) => reader.onError(e) });
    await reader.stream.opened;
    sftp.handle(reqId, addHandle({ kind: 'read', path, reader }));
  }));

  sftp.on('READ', (reqId, raw, offset, len) => {
    const h = handleOf(reqId, raw);
    if (!h) return;
    if (h.kind !== 'read') return void sftp.status(reqId, STATUS.FAILURE, 'not opened for reading');
    h.reader.read(offset, len, (r) => (r === 'eof' ? sftp.status(reqId, STATUS.EOF) : r instanceof Error ? fail(reqId, r) : sftp.data(reqId, r)));
  });
  sftp.on('WRITE', (reqId, raw, offset, data) => {
    const h = handleOf(reqId, raw);
    if (!h) return;
    if (h.kind !== 'write') return void sftp.status(reqId, STATUS.FAILURE, 'not opened for writing');
    run(reqId, async () => {
      await h.writer.write(offset, data);
      sftp.status(reqId, STATUS.OK);
    });
  });
  sftp.on('FSTAT', (reqId, raw) => {
    const h = handleOf(reqId, raw);
    if (!h) return;
    if (h.kind === 'write') return void sftp.attrs(reqId, { mode: TYPE_BITS.file | 0o644, uid: 0, gid: 0, size: h.writer.written, atime: 0, mtime: 0 });
    run(reqId, async () => sftp.attrs(reqId, attrsOf(await stat(h.path))));
  });
  sftp.on('CLOSE', (reqId, raw) => {
    const h = handleOf(reqId, raw);
    if (!h) return;
    handles.delete(raw.toString());
    if (h.kind === 'read') h.reader.stream.detach();
    if (h.kind !== 'write') return void sftp.status(reqId, STATUS.OK);
    run(reqId, async () => {
      await h.writer.close();
      sftp.status(reqId, STATUS.OK);
    });
  });

  sftp.on('OPENDIR', (reqId, path) => run(reqId, async () => {
    const entry = await stat(path);
    if (entry.type !== 'directory') throw new EdgehookError('BAD_REQUEST', `${sftpPath(path)} is not a directory`);
    sftp.handle(reqId, addHandle({ kind: 'dir', path: sftpPath(path), listed: false }));
  }));
  sftp.on('READDIR', (reqId, raw) => {
    const h = handleOf(reqId, raw);
    if (!h) return;
    if (h.kind !== 'dir') return void sftp.status(reqId, STATUS.FAILURE, 'not a directory handle');
    if (h.listed) return void sftp.status(reqId, STATUS.EOF);
    h.listed = true;
    run(reqId, async () => {
      const list = await rpc.call(deviceId, 'files.list', { server, path: h.path }, QUICK);
      if (list.length === 0) return void sftp.status(reqId, STATUS.EOF);
      sftp.name(reqId, list.map((e) => ({ filename: e.name, longname: longname(e), attrs: attrsOf(e) })));
    });
  });

  const simple = (reqId: number, work: () => Promise<unknown>) => run(reqId, async () => {
    await work();
    sftp.status(reqId, STATUS.OK);
  });
  sftp.on('MKDIR', (reqId, path) => simple(reqId, () => rpc.call(deviceId, 'files.mkdir', { server, path: sftpPath(path) }, QUICK)));
  sftp.on('REMOVE', (reqId, path) => simple(reqId, () => rpc.call(deviceId, 'files.delete', { server, path: sftpPath(path) }, { timeoutMs: 60_000 })));
  sftp.on('RMDIR', (reqId, path) => simple(reqId, () => rpc.call(deviceId, 'files.delete', { server, path: sftpPath(path) }, { timeoutMs: 60_000 })));
  sftp.on('RENAME', (reqId, from, to) => simple(reqId, () => rpc.call(deviceId, 'files.rename', { server, from: sftpPath(from), to: sftpPath(to) }, QUICK)));
  // Modes, owners and times are the device's business: accepted and left as they are.
  sftp.on('SETSTAT', (reqId) => sftp.status(reqId, STATUS.OK));
  sftp.on('FSETSTAT', (reqId) => sftp.status(reqId, STATUS.OK));
  sftp.on('READLINK', (reqId) => sftp.status(reqId, STATUS.OP_UNSUPPORTED, 'no symlinks'));
  sftp.on('SYMLINK', (reqId) => sftp.status(reqId, STATUS.OP_UNSUPPORTED, 'no symlinks'));
  // The client is done (end of a batch, `bye`): close our side too, or it waits for us forever.
  sftp.on('end', () => {
    sendExitStatus(sftp, 0);
    sftp.end();
  });
  sftp.on('close', () => {
    for (const h of handles.values()) {
      if (h.kind === 'read') h.reader.stream.detach();
      if (h.kind === 'write') h.writer.stream.cancel();
    }
    handles.clear();
  });
}

/**
 * scp in SFTP mode (OpenSSH 9) fails a transfer whose channel closes without an exit-status, and
 * ssh2 gives SFTP sessions no exit(): send it through the channel's protocol (guarded, private).
 */
function sendExitStatus(sftp: SFTPWrapper, code: number): void {
  const s: unknown = sftp;
  if (typeof s !== 'object' || s === null || !('_protocol' in s) || !('outgoing' in s)) return;
  const proto: unknown = s._protocol;
  const out: unknown = s.outgoing;
  if (typeof proto !== 'object' || proto === null || !('exitStatus' in proto) || typeof proto.exitStatus !== 'function') return;
  if (typeof out !== 'object' || out === null || !('id' in out) || typeof out.id !== 'number') return;
  proto.exitStatus(out.id, code);
}
