import { EdgehookError, type StreamResult } from '@edgehook/shared';
import { posix } from 'node:path';
import type { RelayStream } from '../streams/stream-relay.js';

/**
 * Paths as SFTP clients send them, relative ones from the server root ("/"). Passed on as given:
 * the agent resolves them inside the server's data directory and refuses any escape.
 */
export const sftpPath = (p: string): string => (p.startsWith('/') ? p : `/${p}`);
/** What REALPATH answers (display only; never used to reach a file). */
export const displayPath = (p: string): string => posix.normalize(sftpPath(p === '' ? '.' : p));

/**
 * A download through the relay's fileRead stream, served to SFTP READs by offset. Clients read
 * sequentially with several requests in flight; the bytes in hand are bounded by the relay window
 * (credit goes back only as reads take them), so a slow client pauses the device.
 */
export class SftpReader {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;
  private ended: StreamResult | undefined;
  private failed: Error | undefined;
  private waiting: Array<{ offset: number; len: number; reply: (r: Buffer | 'eof' | Error) => void }> = [];
  stream!: RelayStream;

  constructor(readonly size: number) {}

  onData(data: Buffer): void {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    this.serve();
  }
  onEnd(result: StreamResult): void {
    this.ended = result;
    this.serve();
  }
  onError(err: Error): void {
    this.failed = err;
    this.serve();
  }

  read(offset: number, len: number, reply: (r: Buffer | 'eof' | Error) => void): void {
    if (offset < this.bufStart) return reply(new EdgehookError('BAD_REQUEST', 'only forward reads are supported'));
    this.waiting.push({ offset, len, reply });
    this.waiting.sort((a, b) => a.offset - b.offset);
    this.serve();
  }

  private serve(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0];
      if (!next) break;
      if (next.offset >= this.size) {
        this.waiting.shift();
        next.reply('eof');
        continue;
      }
      const have = this.bufStart + this.buf.length;
      const want = Math.min(next.offset + next.len, this.size);
      if (have < want && !this.ended && !this.failed) return;
      this.waiting.shift();
      if (have <= next.offset) {
        next.reply(this.failed ?? (this.ended?.status === 'rejected' ? new EdgehookError('BAD_REQUEST', this.ended.reason) : 'eof'));
        continue;
      }
      const from = next.offset - this.bufStart;
      next.reply(Buffer.from(this.buf.subarray(from, Math.min(from + next.len, this.buf.length))));
      // Everything before the lowest offset still wanted can go, and its credit back to the device.
      const keepFrom = Math.min(this.waiting[0]?.offset ?? want, want) - this.bufStart;
      if (keepFrom > 0) {
        const drop = Math.min(keepFrom, this.buf.length);
        this.buf = this.buf.subarray(drop);
        this.bufStart += drop;
        if (!this.stream.done) this.stream.consumed(drop);
      }
    }
  }
}

/**
 * An upload through the relay's fileWrite stream: sequential WRITEs go in order under the device's
 * credit (a WRITE is acknowledged only once the device can take more), and the agent replaces the
 * file only when CLOSE completes it.
 */
export class SftpWriter {
  written = 0;
  private ended: Promise<StreamResult>;
  private resolveEnd!: (r: StreamResult) => void;
  private rejectEnd!: (e: Error) => void;
  stream!: RelayStream;

  constructor() {
    this.ended = new Promise((resolve, reject) => {
      this.resolveEnd = resolve;
      this.rejectEnd = reject;
    });
    this.ended.catch(() => undefined);
  }
  onEnd(result: StreamResult): void {
    this.resolveEnd(result);
  }
  onError(err: Error): void {
    this.rejectEnd(err);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    if (offset !== this.written) throw new EdgehookError('BAD_REQUEST', `only sequential writes are supported (expected offset ${this.written}, got ${offset})`);
    this.written += data.length;
    if (this.stream.done) throw new EdgehookError('BAD_REQUEST', 'the upload already ended');
    if (!this.stream.write(data)) await Promise.race([new Promise<void>((resolve) => this.stream.onWritable(resolve)), this.ended.then(() => undefined)]);
  }

  async close(): Promise<void> {
    this.stream.closeInput();
    const result = await this.ended;
    if (result.status === 'rejected') throw new EdgehookError('BAD_REQUEST', result.reason);
  }
}
