import type { StreamKindName, StreamOpenedInfo, StreamSpecInput } from '@edgehook/shared';
import type { StreamRelay } from './stream-relay.js';

/** Bytes a response may hold here beyond the device's window before credit stops flowing. */
const RESPONSE_BUFFER = 1024 * 1024;

/**
 * A device stream as an HTTP response body. Credit goes back to the device only as the response
 * drains, so a slow client pauses the source on the device instead of growing our memory; a client
 * that goes away detaches the stream. Resolves once the device has started the work, so an error
 * at open (not found, refused) can still become a proper status code.
 */
export async function relayResponseBody<K extends StreamKindName>(relay: StreamRelay, deviceId: string, kind: K, spec: StreamSpecInput<K>): Promise<ReadableStream<Uint8Array>> {
  return (await relayResponse(relay, deviceId, kind, spec)).body;
}

/** As relayResponseBody, with the kind's `opened` info (a size for Content-Length, say; undefined when the work ended before it opened). */
export async function relayResponse<K extends StreamKindName>(relay: StreamRelay, deviceId: string, kind: K, spec: StreamSpecInput<K>): Promise<{ body: ReadableStream<Uint8Array>; opened: StreamOpenedInfo<K> | undefined }> {
  let unacked = 0;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>(
    {
      start: (ctl) => {
        controller = ctl;
      },
      pull: () => {
        if (unacked > 0) stream.consumed(unacked);
        unacked = 0;
      },
      cancel: () => stream.detach(),
    },
    { highWaterMark: RESPONSE_BUFFER, size: (chunk) => chunk.byteLength },
  );
  const stream = relay.open(deviceId, kind, spec, {
    onData: (data) => {
      controller.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if ((controller.desiredSize ?? 0) > 0) stream.consumed(data.length);
      else unacked += data.length;
    },
    onEnd: (result) => (result.status === 'fulfilled' ? controller.close() : controller.error(new Error(result.reason))),
    onError: (err) => controller.error(err),
  });
  const opened = await stream.opened;
  return { body, opened };
}
