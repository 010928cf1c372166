import { StringDecoder } from 'node:string_decoder';

/** A line longer than this is sent in pieces rather than held back. */
const MAX_LINE = 8192;
/** A partial line (a prompt without newline) goes out after this much quiet. */
const PARTIAL_FLUSH_MS = 100;

/**
 * Turns a byte stream into lines (Wings sends console output one line per event). UTF-8 split
 * across chunks is decoded correctly; `\r\n` and lone `\r` line ends are dropped.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly emit: (line: string) => void) {}

  push(data: Buffer): void {
    clearTimeout(this.timer);
    const text = this.partial + this.decoder.write(data);
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.emit(line.replace(/\r$/, ''));
    while (this.partial.length > MAX_LINE) {
      this.emit(this.partial.slice(0, MAX_LINE));
      this.partial = this.partial.slice(MAX_LINE);
    }
    if (this.partial) this.timer = setTimeout(() => this.flushPartial(), PARTIAL_FLUSH_MS);
  }

  private flushPartial(): void {
    const rest = this.partial;
    this.partial = '';
    if (rest) this.emit(rest.replace(/\r$/, ''));
  }

  /** End of stream: everything left, including an incomplete UTF-8 sequence. */
  flush(): void {
    clearTimeout(this.timer);
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest) this.emit(rest.replace(/\r$/, ''));
  }
}
