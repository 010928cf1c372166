import { constants, type ReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, realpath, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { nodeCrypto } from '@edgehook/shared/node-builtins';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { EdgehookError, ServerName, type FileEntry } from '@edgehook/shared';
import type { Stats } from 'node:fs';

/**
 * Files inside one server's data directory (`<stateDir>/servers/<name>`), as Wings' filesystem:
 * every path is resolved against the root with the real path of its deepest existing ancestor,
 * and anything that lands outside (.., symlinks out, a swapped-in symlink) is refused.
 */

const MAX_LINK_HOPS = 40;

function errno(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function forbidden(path: string, why = 'escapes the server root'): EdgehookError {
  return new EdgehookError('FORBIDDEN', `path ${JSON.stringify(path)} ${why}`);
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

function entryOf(name: string, st: Stats): FileEntry {
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other';
  return { name, type, size: st.size, mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), modifiedAt: st.mtimeMs };
}

/** An upload in progress: bytes go to a temp file beside the target that replaces it on commit. */
export interface FileUpload {
  readonly bytes: number;
  write(data: Buffer): Promise<void>;
  /** fsync, then rename over the target; returns the size written. */
  commit(): Promise<number>;
  /** Removes the partial file. */
  abort(): Promise<void>;
}

export class FilesService {
  /** `engineProbe` rejects with the engine's own error when there is none (the usual reason a data directory is missing). */
  constructor(private readonly deps: { stateDir: string; engineProbe?: () => Promise<unknown> }) {}

  /** Where a server's files live (the executor creates it with the container). */
  dataDir(server: string): string {
    if (!ServerName.safeParse(server).success) throw new EdgehookError('BAD_REQUEST', `invalid server name ${JSON.stringify(server)}`);
    return join(this.deps.stateDir, 'servers', server);
  }

  async ensureDataDir(server: string): Promise<string> {
    const dir = this.dataDir(server);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    return dir;
  }

  private async root(server: string): Promise<string> {
    try {
      return await realpath(this.dataDir(server));
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
      // No engine means no server was ever created here: say that rather than "no data directory".
      await this.deps.engineProbe?.();
      throw new EdgehookError('NOT_FOUND', `no server ${server} on this device: it has no data directory yet (a declared server gets one when the agent creates its container; edgehook containers <device> lists them)`);
    }
  }

  /** Lexical step: "/" is the server root (as Wings), `..` may not climb above it, no NUL. */
  private lexical(root: string, path: string): string {
    if (path.includes('\0')) throw new EdgehookError('BAD_REQUEST', 'a path may not contain NUL');
    const abs = resolve(root, '.' + sep + path.replace(/^[/\\]+/, ''));
    if (!inside(root, abs)) throw forbidden(path);
    return abs;
  }

  /** The real path of `abs` (lexically inside `root`), following symlinks; refused when it lands outside. */
  private async real(root: string, abs: string, shown: string, hops = 0): Promise<string> {
    if (hops > MAX_LINK_HOPS) throw forbidden(shown, 'has too many levels of symbolic links');
    let existing = abs;
    const tail: string[] = [];
    for (;;) {
      try {
        await lstat(existing);
        break;
      } catch (err) {
        if (errno(err) === 'ELOOP') throw forbidden(shown, 'has a symbolic link loop');
        if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR') throw err;
        if (existing === root) throw new EdgehookError('NOT_FOUND', 'the server root is gone');
        tail.unshift(basename(existing));
        existing = dirname(existing);
      }
    }
    let real: string;
    try {
      real = await realpath(existing);
    } catch (err) {
      if (errno(err) === 'ELOOP') throw forbidden(shown, 'has a symbolic link loop');
      if (errno(err) !== 'ENOENT') throw err;
      // A dangling symlink: follow its target ourselves, it must stay inside too.
      const parent = await realpath(dirname(existing));
      const target = resolve(parent, await readlink(existing));
      if (!inside(root, parent) || !inside(root, target)) throw forbidden(shown);
      real = await this.real(root, target, shown, hops + 1);
    }
    if (!inside(root, real)) throw forbidden(shown);
    return tail.length ? join(real, ...tail) : real;
  }

  /** Resolves `path` for reading or writing its content (symlinks inside the root are followed). */
  async resolve(server: string, path: string): Promise<{ root: string; real: string }> {
    const root = await this.root(server);
    return { root, real: await this.real(root, this.lexical(root, path), path) };
  }

  /** Resolves the parent only: rename and delete act on the entry itself, never through a link. */
  private async resolveEntry(server: string, path: string): Promise<string> {
    const root = await this.root(server);
    const abs = this.lexical(root, path);
    if (abs === root) throw forbidden(path, 'is the server root');
    const parent = await this.real(root, dirname(abs), path);
    return join(parent, basename(abs));
  }

  private async lstatOr404(p: string, shown: string): Promise<Stats> {
    try {
      return await lstat(p);
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') throw new EdgehookError('NOT_FOUND', `${shown} does not exist`);
      throw err;
    }
  }

  async list(server: string, path: string): Promise<FileEntry[]> {
    const { real } = await this.resolve(server, path);
    const st = await this.lstatOr404(real, path);
    if (!st.isDirectory()) throw new EdgehookError('BAD_REQUEST', `${path} is not a directory`);
    const names = (await readdir(real)).sort();
    const out: FileEntry[] = [];
    for (const name of names) {
      const entry = await lstat(join(real, name)).catch(() => undefined);
      if (entry) out.push(entryOf(name, entry));
    }
    return out;
  }

  async stat(server: string, path: string): Promise<FileEntry> {
    const { root, real } = await this.resolve(server, path);
    return entryOf(real === root ? '/' : basename(path.replace(/[/\\]+$/, '')), await this.lstatOr404(real, path));
  }

  /** Opens a file for download; O_NOFOLLOW refuses a symlink swapped in after the check. */
  async read(server: string, path: string): Promise<{ size: number; stream: ReadStream }> {
    const { real } = await this.resolve(server, path);
    let fh: FileHandle;
    try {
      fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new EdgehookError('NOT_FOUND', `${path} does not exist`);
      if (errno(err) === 'ELOOP') throw forbidden(path, 'became a symbolic link');
      throw err;
    }
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      throw new EdgehookError('BAD_REQUEST', `${path} is not a file`);
    }
    // The stream owns the handle (a bare fd would be closed when the FileHandle is collected).
    return { size: st.size, stream: fh.createReadStream({ autoClose: true }) };
  }

  async write(server: string, path: string): Promise<FileUpload> {
    const { root, real } = await this.resolve(server, path);
    if (real === root) throw forbidden(path, 'is the server root');
    const existing = await lstat(real).catch(() => undefined);
    if (existing?.isDirectory()) throw new EdgehookError('BAD_REQUEST', `${path} is a directory`);
    await mkdir(dirname(real), { recursive: true, mode: 0o750 });
    // The directory may have been swapped for a link while we looked: check it again.
    if (!inside(root, await realpath(dirname(real)))) throw forbidden(path);
    const tmp = join(dirname(real), `.${basename(real)}.upload-${nodeCrypto().randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o640);
    let bytes = 0;
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await fh.close();
    };
    return {
      get bytes() {
        return bytes;
      },
      async write(data) {
        if (closed) throw new EdgehookError('CONFLICT', 'the upload is finished');
        let off = 0;
        while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
        bytes += data.length;
      },
      async commit() {
        await fh.sync();
        await close();
        await rename(tmp, real);
        return bytes;
      },
      async abort() {
        await close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
      },
    };
  }

  async rename(server: string, from: string, to: string): Promise<void> {
    const src = await this.resolveEntry(server, from);
    const dst = await this.resolveEntry(server, to);
    await this.lstatOr404(src, from);
    if (await lstat(dst).then(() => true, () => false)) throw new EdgehookError('CONFLICT', `${to} already exists`);
    await this.lstatOr404(dirname(dst), dirname(to));
    await rename(src, dst);
  }

  async delete(server: string, path: string): Promise<void> {
    const target = await this.resolveEntry(server, path);
    await this.lstatOr404(target, path);
    await rm(target, { recursive: true, force: false });
  }

  async mkdir(server: string, path: string): Promise<void> {
    const { root, real } = await this.resolve(server, path);
    if (real === root) return;
    const st = await lstat(real).catch(() => undefined);
    if (st && !st.isDirectory()) throw new EdgehookError('CONFLICT', `${path} exists and is not a directory`);
    await mkdir(real, { recursive: true, mode: 0o750 });
  }
}
