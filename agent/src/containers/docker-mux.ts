import type { OutputChunk } from './container-runtime.js';

/**
 * Docker's multiplexed stream (logs and attach of non-tty containers): frames of an 8-byte header
 * (stream type, 3 zero bytes, uint32 BE payload length) then the payload. Chunks from the socket
 * split headers and payloads anywhere, so this keeps partial state between pushes.
 */
export class StreamDemuxer {
  private readonly header = Buffer.alloc(8);
  private headerFill = 0;
  private remaining = 0;
  private stream: OutputChunk['stream'] = 'stdout';

  push(chunk: Buffer): OutputChunk[] {
    const out: OutputChunk[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.remaining === 0) {
        const take = Math.min(8 - this.headerFill, chunk.length - pos);
        chunk.copy(this.header, this.headerFill, pos, pos + take);
        this.headerFill += take;
        pos += take;
        if (this.headerFill < 8) break;
        this.headerFill = 0;
        // 0 stdin (echoed), 1 stdout, 2 stderr, 3 the engine's own error on the stream.
        this.stream = this.header[0] === 2 || this.header[0] === 3 ? 'stderr' : 'stdout';
        this.remaining = this.header.readUInt32BE(4);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - pos);
      const data = chunk.subarray(pos, pos + take);
      pos += take;
      this.remaining -= take;
      // Consecutive pieces of one stream are merged so callers see fewer, larger chunks.
      const last = out[out.length - 1];
      if (last && last.stream === this.stream) last.data = Buffer.concat([last.data, data]);
      else out.push({ stream: this.stream, data: Buffer.from(data) });
    }
    return out;
  }

  /** True when no frame is half-read (a stream that ends here ended cleanly). */
  get idle(): boolean {
    return this.headerFill === 0 && this.remaining === 0;
  }
}

/** Builds one frame (tests and the simulated engine's wire format). */
export function muxFrame(stream: OutputChunk['stream'], data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream === 'stderr' ? 2 : 1;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** Splits newline-delimited JSON arriving in arbitrary chunks (stats, events, pull progress). */
export class LineSplitter {
  private rest = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, start)) {
      const line = buf.subarray(start, i).toString('utf8').trim();
      if (line) lines.push(line);
      start = i + 1;
    }
    this.rest = Buffer.from(buf.subarray(start));
    return lines;
  }

  /** What is left once the stream ended (a last line without a newline). */
  end(): string[] {
    const line = this.rest.toString('utf8').trim();
    this.rest = Buffer.alloc(0);
    return line ? [line] : [];
  }
}
