import { EdgehookError, KvmSnapshotQuery, KvmStreamerSetParamsQuery } from '@edgehook/shared';
import type { RpcClient } from '../devices/rpc.client.js';
import { callHardware } from '../hardware/device-hardware.js';
import type { StreamRelay } from '../streams/stream-relay.js';
import { kvmQuery } from './kvm-envelope.js';
import { KvmRoutes as K } from '@edgehook/shared/rest';
import type { KvmAudit, KvmMount } from './kvm.routes.js';
import { snapshotFrame } from './video-relay.js';

export function needRelay(relay: StreamRelay | undefined): StreamRelay {
  if (!relay) throw new EdgehookError('ENGINE_UNAVAILABLE', 'device streams are not available on this control plane');
  return relay;
}

/** ustreamer's per-frame headers, as kvmd passes them on with a snapshot. */
export function frameHeaders(f: { at: number; online: boolean; width: number; height: number }): Record<string, string> {
  return {
    'X-Timestamp': f.at.toFixed(6),
    'X-UStreamer-Online': String(f.online),
    'X-UStreamer-Width': String(f.width),
    'X-UStreamer-Height': String(f.height),
  };
}

/** kvmd's `/api/streamer...`: state, snapshot (with preview), set_params, reset. */
export function kvmStreamerRoutes(ctx: { rpc: RpcClient; relay: StreamRelay | undefined; mount: KvmMount; audit: KvmAudit }): void {
  const { rpc, mount } = ctx;
  mount(K.kvmStreamer, ({ device }) => callHardware(rpc, device, 'streamer.state', {}));
  mount(K.kvmSnapshot,
      async ({ c, device }) => {
        const q = kvmQuery(c, KvmSnapshotQuery);
        if (q.ocr) throw new EdgehookError('BAD_REQUEST', 'OCR is not available on this device', { pikvmError: 'OcrDisabledError' });
        if (!device.online) throw new EdgehookError('DEVICE_OFFLINE', `device ${device.name} is offline`);
        const preview = q.preview ? { maxWidth: q.preview_max_width, maxHeight: q.preview_max_height, quality: q.preview_quality } : undefined;
        const f = await snapshotFrame(needRelay(ctx.relay), device.id, { snapshot: true, ...(preview ? { preview } : {}) });
        // kvmd: 503 when the source has no signal, unless the client accepts the "no signal" picture.
        if (!f.online && !q.allow_offline) throw new EdgehookError('DEVICE_OFFLINE', 'Service Unavailable', { pikvmError: 'UnavailableError' });
        return c.body(new Uint8Array(f.jpeg), 200, { 'Content-Type': 'image/jpeg', 'Cache-Control': 'no-store', ...frameHeaders(f) });
      },
      true,);
  mount(K.kvmStreamerSetParams, async (call) => {
      const q = kvmQuery(call.c, KvmStreamerSetParamsQuery);
      if (q.h264_bitrate || q.h264_gop) throw new EdgehookError('BAD_REQUEST', 'This streamer does not support H264', { pikvmError: 'StreamerH264NotSupported' });
      const params = { ...(q.quality !== undefined ? { quality: q.quality } : {}), ...(q.desired_fps !== undefined ? { desired_fps: q.desired_fps } : {}), ...(q.resolution ? { resolution: q.resolution } : {}) };
      await callHardware(rpc, call.device, 'streamer.setParams', params);
      ctx.audit(call, 'streamer params', params);
      return {};
    });
  mount(K.kvmStreamerReset, async () => ({}));
}
