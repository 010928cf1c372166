import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { CliError, UsageError } from '../errors.js';
import { streamRequest } from '../stream-request.js';
import { printable } from '../table.js';

const USAGE = withCommonHelp(
  `Usage: edgehook cp <device>:<server>:<path> <local-file>     (download)
       edgehook cp <local-file> <device>:<server>:<path>     (upload)

Copies a file out of or into a server's data directory on a device (the files the
container sees under its data mount, /data by default). Paths are relative to that
directory; nothing outside it can be reached. "-" as the local file is stdout/stdin.
`,
  { column: 16 },
);

interface Remote {
  device: string;
  server: string;
  path: string;
}

function parseRemote(arg: string): Remote | undefined {
  const m = /^([^:/]+):([a-z0-9][a-z0-9_.-]{0,62}):(.+)$/.exec(arg);
  return m ? { device: m[1] ?? '', server: m[2] ?? '', path: m[3] ?? '' } : undefined;
}

export const cpCommand = defineCommand({
  name: 'cp',
  summary: "copy files to or from a server's data directory",
  usage: USAGE,
  positionals: ['source', 'destination'],
  check({ args: { source: from, destination: to } }) {
    const src = parseRemote(from);
    const dst = parseRemote(to);
    if (src && !dst) return { download: true, remote: src, local: to };
    if (dst && !src) return { download: false, remote: dst, local: from };
    throw new UsageError('exactly one side must be remote, written <device>:<server>:<path>', USAGE);
  },
  async run({ checked: { download, remote, local }, ctx, api }) {
    const path = `/api/devices/${encodeURIComponent(remote.device)}/servers/${encodeURIComponent(remote.server)}/files/content?path=${encodeURIComponent(remote.path)}`;

    if (download) {
      const res = await streamRequest(ctx, api, path);
      if (!res.body) throw new CliError('the server sent no file body');
      const body = Readable.fromWeb(res.body);
      if (local === '-') {
        for await (const chunk of body) (ctx.io.stdoutBytes ?? ((b: Uint8Array) => ctx.io.stdout(Buffer.from(b).toString())))(chunk);
      } else await pipeline(body, createWriteStream(local));
      if (local !== '-') ctx.io.stderr(`${printable(remote.path)} -> ${printable(local)} (${res.headers.get('content-length') ?? '?'} bytes)\n`);
      return 0;
    }
    const size = local === '-' ? undefined : (await stat(local).catch(() => undefined))?.size;
    if (local !== '-' && size === undefined) throw new CliError(`cannot read ${local}`);
    const source = local === '-' ? ctx.io.stdin : createReadStream(local);
    // A streamed request body needs `duplex: 'half'`, which TypeScript's RequestInit does not list yet.
    const init: RequestInit & { duplex: 'half' } = {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', ...(size !== undefined ? { 'content-length': String(size) } : {}) },
      body: Readable.toWeb(Readable.from(source)),
      duplex: 'half',
    };
    await streamRequest(ctx, api, path, init);
    ctx.io.stderr(`${printable(local)} -> ${printable(remote.path)} (${size ?? 'streamed'} bytes)\n`);
    return 0;
  },
});
