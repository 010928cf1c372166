import {
  EdgehookError,
  KvmMsdConnectedQuery,
  KvmMsdImageQuery,
  KvmMsdReadQuery,
  KvmMsdSetParamsQuery,
  KvmMsdWriteQuery,
  KvmMsdWriteRemoteQuery,
  KvmStreamKinds,
  MsdImageName,
  validate,
  type StreamResult,
} from '@edgehook/shared';
import type { RpcClient } from '../devices/rpc.client.js';
import { callHardware } from '../hardware/device-hardware.js';
import { relayResponse, relayResponseBody } from '../streams/http-body.js';
import { contentDisposition } from '../http/content-disposition.js';
import type { LiveSockets } from '../auth/live-sockets.js';
import { revocableBody } from '../auth/revocable-body.js';
import type { StreamRelay } from '../streams/stream-relay.js';
import { kvmQuery } from './kvm-envelope.js';
import { KvmRoutes as K } from '@edgehook/shared/rest';
import type { KvmAudit, KvmMount } from './kvm.routes.js';
import { needRelay } from './kvm-streamer.routes.js';
import { requestChunks } from '../http/request-body.js';

const bad = (message: string) => new EdgehookError('BAD_REQUEST', message, { pikvmError: 'ValidatorError' });

/** kvmd joins `prefix` and `image`; we keep one level, so the joined name must be one part. */
function imageName(prefix: string, image: string): string {
  const parts = `${prefix}/${image}`.split('/').map((p) => p.trim()).filter(Boolean);
  if (parts.length !== 1) throw bad(`The argument ${JSON.stringify(image)} is not a valid MSD image name${parts.length > 1 ? ' (no directories here)' : ''}`);
  const v = validate(MsdImageName, parts[0]);
  if (!v.ok) throw bad(`The argument ${JSON.stringify(image)} is not a valid MSD image name: ${v.error}`);
  return v.value;
}

/** kvmd's `/api/msd...`: state, read and write (streamed), write_remote, set_params, set_connected, remove, reset. */
export function kvmMsdRoutes(ctx: { rpc: RpcClient; relay: StreamRelay | undefined; mount: KvmMount; audit: KvmAudit; sockets: LiveSockets }): void {
  const { rpc, mount } = ctx;
  mount(K.kvmMsd, ({ device }) => callHardware(rpc, device, 'msd.state', {}));
  mount(K.kvmMsdSetParams, async ({ c, device }) => {
      const q = kvmQuery(c, KvmMsdSetParamsQuery);
      let image: string | undefined;
      if (q.image !== undefined) {
        if (/^[a-zA-Z][a-zA-Z0-9._+-]+[a-zA-Z]:\/\/[a-zA-Z0-9[]/.test(q.image)) throw new EdgehookError('BAD_REQUEST', 'Remote images binding is disabled', { pikvmError: 'MsdRemoteDisabledError' });
        image = q.image.trim() === '' ? '' : imageName('', q.image);
      }
      await callHardware(rpc, device, 'msd.setParams', { ...(image !== undefined ? { image } : {}), ...(q.cdrom !== undefined ? { cdrom: q.cdrom } : {}), ...(q.rw !== undefined ? { rw: q.rw } : {}) });
      return {};
    });
  mount(K.kvmMsdSetConnected, async (call) => {
      const q = kvmQuery(call.c, KvmMsdConnectedQuery);
      await callHardware(rpc, call.device, 'msd.setConnected', q);
      ctx.audit(call, 'msd connected', q);
      return {};
    });
  mount(K.kvmMsdRemove, async (call) => {
      const q = kvmQuery(call.c, KvmMsdImageQuery);
      await callHardware(rpc, call.device, 'msd.remove', q);
      ctx.audit(call, 'msd remove', q);
      return {};
    });
  mount(K.kvmMsdReset, async ({ device }) => callHardware(rpc, device, 'msd.reset', {}));

  // The image streams from the device under the response's pace (relayResponse's credit).
  mount(
    K.kvmMsdRead,
    async (call) => {
      const q = kvmQuery(call.c, KvmMsdReadQuery);
      const image = imageName('', q.image);
      // kvmd compresses with lzma or zstd; Node 20 has neither, so say so rather than send raw bytes.
      if (q.compress === 'lzma' || q.compress === 'zstd') throw bad(`Compression mode ${q.compress} is not available on this PiKVM facade; use compress=none`);
      if (!call.device.online) throw new EdgehookError('DEVICE_OFFLINE', `device ${call.device.name} is offline`);
      const { body, opened } = await relayResponse(needRelay(ctx.relay), call.device.id, KvmStreamKinds.msdRead, { image });
      const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'Content-Disposition': contentDisposition(image), 'Cache-Control': 'no-store' };
      if (opened) headers['Content-Length'] = String(opened.size);
      return call.c.body(revocableBody(ctx.sockets, { principal: call.principal, permission: 'devices.hardware.read', deviceId: call.device.id }, body), 200, headers);
    },
    true,
  );

  // The body streams to the device under its credit (acknowledged once on disk): memory here
  // stays at one window whatever the image size.
  mount(K.kvmMsdWrite, async (call) => {
      const { c, device } = call;
      const q = kvmQuery(c, KvmMsdWriteQuery);
      const image = imageName(q.prefix, q.image);
      const length = c.req.header('content-length');
      if (length === undefined || !/^\d+$/.test(length)) throw bad('The argument None is not a valid request size (send Content-Length)');
      const size = Number(length);
      const relay = needRelay(ctx.relay);
      if (!device.online) throw new EdgehookError('DEVICE_OFFLINE', `device ${device.name} is offline`);
      let stream!: ReturnType<typeof relay.open>;
      const ended = new Promise<StreamResult>((resolve, reject) => {
        stream = relay.open(device.id, KvmStreamKinds.msdWrite, { image, size, removeIncomplete: q.remove_incomplete }, { onData: (d) => stream.consumed(d.length), onEnd: resolve, onError: reject });
      });
      ended.catch(() => undefined);
      await stream.opened;
      let written = 0;
      try {
        for await (const chunk of requestChunks(c)) {
          written += chunk.length;
          if (!stream.write(chunk)) {
            await Promise.race([new Promise<void>((resolve) => stream.onWritable(resolve)), ended.then(() => undefined)]);
          }
          if (stream.done) break;
        }
      } catch (err) {
        stream.cancel();
        throw bad(`upload interrupted after ${written} bytes: ${err instanceof Error ? err.message : String(err)}`);
      }
      stream.closeInput();
      const result = await ended;
      if (result.status === 'rejected') throw new EdgehookError('BAD_REQUEST', result.reason, { pikvmError: 'MsdError' });
      ctx.audit(call, 'msd write', { image, size: written });
      return { image: { name: image, size, written } };
    });

  mount(K.kvmMsdWriteRemote,
      async (call) => {
        const q = kvmQuery(call.c, KvmMsdWriteRemoteQuery);
        let url: URL;
        try {
          url = new URL(q.url);
        } catch {
          throw bad(`The argument ${JSON.stringify(q.url)} is not a valid URL`);
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(`The argument ${JSON.stringify(q.url)} is not a valid URL: only http and https can be downloaded`);
        const image = q.image !== undefined || q.prefix !== '' ? imageName(q.prefix, q.image ?? (url.pathname.split('/').filter(Boolean).at(-1) ?? '')) : undefined;
        if (!call.device.online) throw new EdgehookError('DEVICE_OFFLINE', `device ${call.device.name} is offline`);
        const body = await relayResponseBody(needRelay(ctx.relay), call.device.id, KvmStreamKinds.msdDownload, {
          url: url.href,
          ...(image ? { image } : {}),
          timeoutSec: q.timeout,
          insecure: q.insecure,
          removeIncomplete: q.remove_incomplete,
        });
        ctx.audit(call, 'msd write_remote', { url: url.origin + url.pathname });
        return call.c.body(revocableBody(ctx.sockets, { principal: call.principal, permission: 'devices.hardware.write', deviceId: call.device.id }, body), 200, { 'Content-Type': 'application/x-ndjson' });
      },
      true,);
}
