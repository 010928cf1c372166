import type { LiveScope, LiveSockets } from './live-sockets.js';

/**
 * A streamed response body (a followed log, a file download, the MJPEG screen) that lives only as
 * long as its credentials: the registry ends it on a revocation of its session, user, role or device,
 * as it closes websockets. Ending errors the response (the client sees a cut-off body, never a
 * clean end it could mistake for the whole file) and cancels the source, which detaches the device
 * stream behind it.
 */
export function revocableBody(sockets: LiveSockets, scope: LiveScope, source: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let unregister = (): void => undefined;
  let done = false;
  const finish = (): void => {
    done = true;
    unregister();
  };
  return new ReadableStream<Uint8Array>(
    {
      start: (controller) => {
        unregister = sockets.registerHandle({
          ...scope,
          end: (_code, reason) => {
            if (done) return;
            finish();
            controller.error(new Error(`revoked: ${reason}`));
            reader.cancel(reason).catch(() => undefined);
          },
        });
      },
      pull: async (controller) => {
        try {
          const { value, done: ended } = await reader.read();
          if (done) return;
          if (ended) {
            finish();
            controller.close();
          } else controller.enqueue(value);
        } catch (err) {
          if (done) return;
          finish();
          controller.error(err);
        }
      },
      cancel: (reason) => {
        finish();
        return reader.cancel(reason);
      },
    },
    // No buffer of its own: back-pressure reaches the source unchanged.
    { highWaterMark: 0 },
  );
}
