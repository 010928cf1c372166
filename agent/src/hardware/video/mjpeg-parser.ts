import { VIDEO_FRAME_MAX } from '@edgehook/shared';

export interface MjpegPart {
  headers: Record<string, string>;
  body: Buffer;
}

const HEADER_MAX = 16 * 1024;
const SEP = Buffer.from('\r\n\r\n');

/**
 * Splits ustreamer's `multipart/x-mixed-replace` stream into parts. Each part carries a
 * Content-Length (ustreamer always sends one), so the JPEG is taken by length, never by
 * searching for the boundary inside image bytes. Throws on a part without a length or beyond
 * the size bounds: the stream is broken and is dropped.
 */
export class MjpegParser {
  private buf: Buffer = Buffer.alloc(0);
  private pending: { headers: Record<string, string>; length: number } | undefined;

  constructor(private readonly onPart: (p: MjpegPart) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (!this.pending) {
        const end = this.buf.indexOf(SEP);
        if (end < 0) {
          if (this.buf.length > HEADER_MAX) throw new Error('MJPEG part headers too long');
          return;
        }
        const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
        this.buf = this.buf.subarray(end + SEP.length);
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const i = line.indexOf(':');
          if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        const length = Number(headers['content-length']);
        if (!Number.isInteger(length) || length < 0 || length > VIDEO_FRAME_MAX) throw new Error(`bad MJPEG part length ${headers['content-length'] ?? '(none)'}`);
        this.pending = { headers, length };
      }
      if (this.buf.length < this.pending.length) return;
      const body = Buffer.from(this.buf.subarray(0, this.pending.length));
      this.buf = this.buf.subarray(this.pending.length);
      const { headers } = this.pending;
      this.pending = undefined;
      this.onPart({ headers, body });
    }
  }
}
