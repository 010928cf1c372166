import { Hono } from 'hono';
import { contentDisposition } from '../http/content-disposition.js';
import type { Kysely } from 'kysely';
import { ContainerStreamKinds, EdgehookError, type StreamResult } from '@edgehook/shared';
import { ContainerRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import type { RpcClient } from '../devices/rpc.client.js';
import type { StreamRelay } from '../streams/stream-relay.js';
import { relayResponseBody } from '../streams/http-body.js';
import type { LiveSockets } from '../auth/live-sockets.js';
import { revocableBody } from '../auth/revocable-body.js';
import { abortRequest, requestChunks } from '../http/request-body.js';
import { uploadTooLarge } from '../http/body-limit.js';

export interface FilesRoutesDeps {
  db: Kysely<Database>;
  rpc: RpcClient;
  relay: StreamRelay;
  /** Uploads above this many bytes are cut off (413) as they stream. */
  maxUploadBytes: number;
  /** A download ends with its client's credentials. */
  sockets: LiveSockets;
}

const QUICK = { timeoutMs: 15_000 };

function baseName(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? 'download';
}

/**
 * `/api/devices/:id/servers/:name/files...`: files inside one server's data directory. The agent
 * resolves every path and refuses escapes; downloads and uploads stream through the relay with
 * its credit flow control, so neither side ever holds a whole file in memory.
 */
export function filesRoutes(deps: FilesRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, rpc, relay } = deps;
  const mount = routeMounter(app, '/api/devices', db);

  mount(R.fileList, ({ device, params, query }) => rpc.call(device.id, 'files.list', { server: params.name, path: query.path }, QUICK));
  mount(R.fileRename, async ({ device, params, body }) => {
    await rpc.call(device.id, 'files.rename', { server: params.name, ...body }, QUICK);
    return { ok: true as const };
  });
  mount(R.fileDelete, async ({ device, params, body }) => {
    await rpc.call(device.id, 'files.delete', { server: params.name, ...body }, { timeoutMs: 60_000 });
    return { ok: true as const };
  });
  mount(R.fileMkdir, async ({ device, params, body }) => {
    await rpc.call(device.id, 'files.mkdir', { server: params.name, ...body }, QUICK);
    return { ok: true as const };
  });

  mount(R.fileDownload, async ({ c, device: { id: deviceId }, params: { name: server }, query: { path } }) => {
    // Stat first, so a missing file or a directory is a clean 404/400 rather than a broken body.
    const entry = await rpc.call(deviceId, 'files.stat', { server, path }, QUICK);
    if (entry.type !== 'file') throw new EdgehookError('BAD_REQUEST', `${path} is a ${entry.type}, not a file`);
    const body = await relayResponseBody(relay, deviceId, ContainerStreamKinds.fileRead, { server, path });
    return c.body(revocableBody(deps.sockets, { principal: c.get('principal'), permission: 'containers.files', deviceId }, body), 200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(entry.size), 'Content-Disposition': contentDisposition(baseName(path)), 'Cache-Control': 'no-store' });
  });

  // Upload: the request body streams to the device under its credit; the file replaces `path`
  // only once complete (the agent writes a temporary file and renames it).
  mount(R.fileUpload, async ({ c, device: { id: deviceId }, params: { name: server }, query: { path } }) => {
    const length = c.req.header('content-length');
    const size = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
    let stream!: ReturnType<typeof relay.open>;
    const ended = new Promise<StreamResult>((resolve, reject) => {
      const s = relay.open(deviceId, ContainerStreamKinds.fileWrite, { server, path, ...(size !== undefined ? { size } : {}) }, { onData: (d) => s.consumed(d.length), onEnd: resolve, onError: reject });
      stream = s;
    });
    ended.catch(() => undefined);
    await stream.opened;
    // An upload lasts as long as its credentials: a revocation stops reading and drops the file.
    let revoked: string | undefined;
    const unregister = deps.sockets.registerHandle({
      principal: c.get('principal'),
      permission: 'containers.files',
      deviceId,
      end: (_code, reason) => {
        revoked = reason;
        stream.cancel();
        abortRequest(c, `revoked: ${reason}`);
      },
    });
    let bytes = 0;
    try {
      // Chunk by chunk from the socket: no read-ahead beyond what the device has credited.
      for await (const value of requestChunks(c)) {
        if (revoked !== undefined) break;
        bytes += value.byteLength;
        if (bytes > deps.maxUploadBytes) {
          stream.cancel();
          c.header('Connection', 'close');
          throw uploadTooLarge(deps.maxUploadBytes);
        }
        if (!stream.write(value)) {
          await Promise.race([new Promise<void>((resolve) => stream.onWritable(resolve)), ended.then(() => undefined)]);
        }
        if (stream.done) break;
      }
    } catch (err) {
      if (err instanceof EdgehookError) throw err;
      if (revoked !== undefined) throw new EdgehookError('UNAUTHENTICATED', `upload stopped: ${revoked}`);
      // The client went away mid-upload: the agent drops the partial file.
      stream.cancel();
      throw new EdgehookError('BAD_REQUEST', `upload interrupted after ${bytes} bytes: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      unregister();
    }
    if (revoked !== undefined) throw new EdgehookError('UNAUTHENTICATED', `upload stopped: ${revoked}`);
    stream.closeInput();
    const result = await ended;
    if (result.status === 'rejected') throw new EdgehookError('BAD_REQUEST', result.reason);
    return { ok: true as const, path, bytes };
  });
  return app;
}
