import { Hono } from 'hono';
import type { LiveSockets } from '../auth/live-sockets.js';
import { KvmStreamQuery } from '@edgehook/shared';
import type { RelayStream } from '../streams/stream-relay.js';
import { kvmQuery } from './kvm-envelope.js';
import { KvmRoutes as K } from '@edgehook/shared/rest';
import { kvmMounter, type KvmHandle } from './kvm.routes.js';
import { frameHeaders, needRelay } from './kvm-streamer.routes.js';
import type { StreamRelay } from '../streams/stream-relay.js';
import { openVideo } from './video-relay.js';

export const MJPEG_BOUNDARY = 'boundarydonotcross';
/** Bytes of parts the response may hold unsent before frames stop being credited (then skipped on the device). */
const RESPONSE_BUFFER = 512 * 1024;

/**
 * `/kvm/:id/streamer/stream`: the screen as MJPEG, byte for byte the way ustreamer serves its
 * `/stream` (multipart/x-mixed-replace, boundary `boundarydonotcross`, Content-Length and
 * X-Timestamp per part, the X-UStreamer-* headers with `extra_headers=1`). A frame's credit goes
 * back to the device only once the response has room, so a slow viewer gets fewer frames.
 */
export function kvmStreamRoutes(deps: { relay: StreamRelay | undefined; handle: KvmHandle; sockets: LiveSockets }): Hono {
  const app = new Hono();
  const mount = kvmMounter(app, deps.handle, '/kvm/:deviceId/streamer');
  mount(
    K.kvmStream,
      async ({ c, device, principal }) => {
        const q = kvmQuery(c, KvmStreamQuery);
        const relay = needRelay(deps.relay);
        let stream: RelayStream | undefined;
        let waiting: (() => void)[] = [];
        let unregister = (): void => undefined;
        const body = new ReadableStream<Uint8Array>(
          {
            start: (controller) => {
              // A stream lives as long as the viewer's credentials: a revocation ends it at once.
              unregister = deps.sockets.registerHandle({
                principal,
                permission: 'devices.hardware.read',
                deviceId: device.id,
                end: (_code, reason) => {
                  stream?.detach();
                  try {
                    controller.error(new Error(`revoked: ${reason}`));
                  } catch {
                    // already ended
                  }
                },
              });
              stream = openVideo(relay, device.id, { snapshot: false }, {
                frame: (f, release) => {
                  const head = [`--${MJPEG_BOUNDARY}`, 'Content-Type: image/jpeg', `Content-Length: ${f.jpeg.length}`, `X-Timestamp: ${f.at.toFixed(6)}`];
                  if (q.extra_headers) for (const [k, v] of Object.entries(frameHeaders(f))) if (k !== 'X-Timestamp') head.push(`${k}: ${v}`);
                  controller.enqueue(new Uint8Array(Buffer.from(head.join('\r\n') + '\r\n\r\n')));
                  controller.enqueue(new Uint8Array(f.jpeg.buffer, f.jpeg.byteOffset, f.jpeg.byteLength));
                  controller.enqueue(new Uint8Array(Buffer.from('\r\n')));
                  if ((controller.desiredSize ?? 0) > 0) release();
                  else waiting.push(release);
                },
                end: (err) => {
                  unregister();
                  try {
                    if (err) controller.error(err);
                    else controller.close();
                  } catch {
                    // already cancelled by the client
                  }
                },
              });
            },
            pull: () => {
              const w = waiting;
              waiting = [];
              for (const release of w) release();
            },
            cancel: () => {
              unregister();
              stream?.detach();
            },
          },
          { highWaterMark: RESPONSE_BUFFER, size: (chunk) => chunk.byteLength },
        );
        await stream?.opened;
        return c.body(body, 200, {
          'Content-Type': `multipart/x-mixed-replace;boundary=${MJPEG_BOUNDARY}`,
          'Cache-Control': 'no-store, no-cache, must-revalidate, proxy-revalidate, pre-check=0, post-check=0, max-age=0',
          Pragma: 'no-cache',
          Expires: 'Mon, 3 Jan 2000 12:34:56 GMT',
        });
      },
      true,
  );
  return app;
}
