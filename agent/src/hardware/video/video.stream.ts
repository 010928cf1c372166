import { encodeVideoFrameHeader, KvmStreamKinds } from '@edgehook/shared';
import type { StreamKind } from '../../streams/stream-host.js';
import { makePreview } from './preview.js';
import type { Streamer } from './streamer.js';
import type { VideoFrame } from './video-source.js';

function framed(f: VideoFrame): Buffer {
  return Buffer.concat([encodeVideoFrameHeader({ length: f.jpeg.length, at: f.at / 1000, width: f.width, height: f.height, online: f.online }), f.jpeg]);
}

/**
 * Stream kind `kvm-video`: the screen as framed JPEGs. A live viewer gets each frame while its
 * window has room and skips frames while it is full (the stream's credit is the viewer's
 * speed), so a slow viewer loses frames, never memory; `snapshot` sends one frame and ends.
 */
export function videoStreamKind(streamer: Streamer): StreamKind<typeof KvmStreamKinds.video> {
  return {
    async open(spec, stream) {
      if (spec.snapshot) {
        const frame = await streamer.snapshot();
        const preview = spec.preview;
        const out = preview ? await makePreview(frame, preview.maxWidth, preview.maxHeight, preview.quality) : frame;
        stream.write(framed(out));
        stream.end({ status: 'fulfilled', value: { width: out.width, height: out.height, online: out.online, at: out.at } });
        return { snapshot: true };
      }
      if (spec.hold) {
        const release = streamer.watch(() => undefined);
        const done = (): void => {
          release();
          if (!stream.finished) stream.end({ status: 'fulfilled', value: {} });
        };
        stream.onCommand((cmd) => (cmd.type === 'cancel' || cmd.type === 'detach' || cmd.type === 'close-input' ? done() : undefined));
        stream.onGone(release);
        return { hold: true };
      }
      let full = false;
      const stats = { dropped: 0 };
      const offDrain = stream.onDrain(() => {
        full = false;
      });
      const stop = streamer.watch((f) => {
        if (stream.finished) return;
        if (full) {
          stats.dropped++;
          return;
        }
        // Whole frames only: once the window is past full, later frames wait for credit.
        if (!stream.write(framed(f))) full = true;
      }, stats);
      const finish = (): void => {
        stop();
        offDrain();
        if (!stream.finished) stream.end({ status: 'fulfilled', value: { dropped: stats.dropped } });
      };
      stream.onCommand((cmd) => {
        if (cmd.type === 'cancel' || cmd.type === 'detach' || cmd.type === 'close-input') finish();
      });
      stream.onGone(() => {
        stop();
        offDrain();
      });
      return { live: true };
    },
  };
}
