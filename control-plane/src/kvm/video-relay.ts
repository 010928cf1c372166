import { decodeVideoFrameHeader, EdgehookError, KvmStreamKinds, PerfkitStreamKinds, VIDEO_FRAME_HEADER, VIDEO_FRAME_MAX, type StreamSpecInput, type VideoFrameHeader, type VideoOpenSpec } from '@edgehook/shared';
import type { RelayStream, StreamRelay } from '../streams/stream-relay.js';

export interface RelayedFrame extends VideoFrameHeader {
  jpeg: Buffer;
}

/**
 * A device's screen through the stream relay: reassembles the framed JPEGs and hands each one
 * on with `release`, which returns its bytes' credit to the device. Credit not returned stops
 * the device sending (it then skips frames), so the consumer's pace is the device's.
 */
export function openVideo(
  relay: StreamRelay,
  deviceId: string,
  spec: VideoOpenSpec,
  on: { frame(f: RelayedFrame, release: () => void): void; end(err?: EdgehookError): void },
): RelayStream {
  return openFrames(relay, deviceId, KvmStreamKinds.video, spec, on);
}

/** The stream kinds that carry framed JPEGs: the KVM screen and a Perfkit session's images. */
export type FrameKind = typeof KvmStreamKinds.video | typeof PerfkitStreamKinds.image;

/** Framed JPEGs of any frame kind, reassembled the same way (one frame path for both). */
export function openFrames<K extends FrameKind>(
  relay: StreamRelay,
  deviceId: string,
  kind: K,
  spec: StreamSpecInput<K>,
  on: { frame(f: RelayedFrame, release: () => void): void; end(err?: EdgehookError): void },
): RelayStream<K> {
  let buf: Buffer = Buffer.alloc(0);
  let header: VideoFrameHeader | undefined;
  let ended = false;
  const end = (err?: EdgehookError) => {
    if (ended) return;
    ended = true;
    on.end(err);
  };
  const stream = relay.open(deviceId, kind, spec, {
    onData: (data) => {
      buf = buf.length === 0 ? data : Buffer.concat([buf, data]);
      for (;;) {
        if (!header) {
          if (buf.length < VIDEO_FRAME_HEADER) return;
          header = decodeVideoFrameHeader(buf);
          if (header.length > VIDEO_FRAME_MAX) {
            stream.cancel();
            return end(new EdgehookError('INTERNAL', `a video frame of ${header.length} bytes is over the limit`));
          }
          buf = buf.subarray(VIDEO_FRAME_HEADER);
        }
        if (buf.length < header.length) return;
        const jpeg = Buffer.from(buf.subarray(0, header.length));
        buf = buf.subarray(header.length);
        const size = VIDEO_FRAME_HEADER + header.length;
        const h = header;
        header = undefined;
        let released = false;
        on.frame({ ...h, jpeg }, () => {
          if (released) return;
          released = true;
          stream.consumed(size);
        });
      }
    },
    onEnd: (result) => end(result.status === 'rejected' ? new EdgehookError('INTERNAL', result.reason) : undefined),
    onError: (err) => end(err),
  });
  return stream;
}

/** One frame (a snapshot), resolved once it has arrived. */
export function snapshotFrame(relay: StreamRelay, deviceId: string, spec: VideoOpenSpec): Promise<RelayedFrame> {
  return firstFrame(relay, deviceId, KvmStreamKinds.video, { ...spec, snapshot: true });
}

/** The one frame a snapshot-like stream sends (a Perfkit image always is one). */
export function firstFrame<K extends FrameKind>(relay: StreamRelay, deviceId: string, kind: K, spec: StreamSpecInput<K>): Promise<RelayedFrame> {
  return new Promise((resolve, reject) => {
    let got: RelayedFrame | undefined;
    openFrames(relay, deviceId, kind, spec, {
      frame: (f, release) => {
        got = f;
        release();
      },
      end: (err) => (got ? resolve(got) : reject(err ?? new EdgehookError('INTERNAL', 'the device sent no frame'))),
    });
  });
}
