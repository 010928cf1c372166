/**
 * A baseline JPEG encoder for pictures made of flat 8x8 blocks (the simulated screen's test
 * pattern): every block is a single colour, so its DCT has only the DC coefficient and the scan
 * is one DC difference plus an end-of-block per block and component. That encodes 1280x720 in a
 * few milliseconds where a general JavaScript encoder needs a third of a second, and the output
 * is an ordinary JFIF file any decoder (browsers, ustreamer clients, jpeg-js) reads.
 */

/** Annex K.3 DC tables: code counts per length 1..16, and the symbols (categories 0..11). */
const DC_LUMA_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_CHROMA_BITS = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_SYMBOLS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
/** An AC table with one symbol, end-of-block (0x00), coded as the single bit '0'. */
const AC_BITS = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_SYMBOLS = [0];

interface Code {
  code: number;
  len: number;
}

function canonical(bits: number[], symbols: number[]): Code[] {
  const out: Code[] = [];
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < (bits[len - 1] ?? 0); i++) out[symbols[k++] ?? 0] = { code: code++, len };
    code <<= 1;
  }
  return out;
}

const DC_CODES = [canonical(DC_LUMA_BITS, DC_SYMBOLS), canonical(DC_CHROMA_BITS, DC_SYMBOLS)];

/** libjpeg's quality scaling of the standard DC quantizers (16 luma, 17 chroma). */
function dcQuant(base: number, quality: number): number {
  const q = Math.min(100, Math.max(1, quality));
  const scale = q < 50 ? 5000 / q : 200 - q * 2;
  return Math.min(255, Math.max(1, Math.floor((base * scale + 50) / 100)));
}

class BitWriter {
  private acc = 0;
  private n = 0;
  pos = 0;
  constructor(public buf: Buffer) {}

  private byte(b: number): void {
    if (this.pos + 2 > this.buf.length) {
      const next = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(next);
      this.buf = next;
    }
    this.buf[this.pos++] = b;
    if (b === 0xff) this.buf[this.pos++] = 0; // byte stuffing
  }

  bits(value: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) {
        this.byte(this.acc);
        this.acc = 0;
        this.n = 0;
      }
    }
  }

  /** Pads the last byte with 1 bits, as the standard asks. */
  flush(): void {
    if (this.n > 0) this.bits(0xff, 8 - this.n);
  }
}

function header(width: number, height: number, q: [number, number]): Buffer {
  const parts: number[] = [0xff, 0xd8];
  const seg = (marker: number, body: number[]) => parts.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]); // JFIF 1.1, no density
  for (let t = 0; t < 2; t++) seg(0xdb, [t, ...new Array<number>(64).fill(q[t] ?? 1)]);
  seg(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
  seg(0xc4, [0x00, ...DC_LUMA_BITS, ...DC_SYMBOLS]);
  seg(0xc4, [0x01, ...DC_CHROMA_BITS, ...DC_SYMBOLS]);
  seg(0xc4, [0x10, ...AC_BITS, ...AC_SYMBOLS]);
  seg(0xc4, [0x11, ...AC_BITS, ...AC_SYMBOLS]);
  seg(0xda, [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
  return Buffer.from(parts);
}

/**
 * Encodes a picture of `cols` x `rows` flat blocks (8x8 pixels each); `ycc` holds Y, Cb, Cr
 * (0..255) per block, row by row. The image is cols*8 x rows*8 pixels.
 */
export function encodeFlatJpeg(cols: number, rows: number, ycc: Uint8Array, quality: number): Buffer {
  const q: [number, number] = [dcQuant(16, quality), dcQuant(17, quality)];
  const head = header(cols * 8, rows * 8, q);
  const w = new BitWriter(Buffer.alloc(cols * rows * 2 + 1024));
  const prev = [0, 0, 0];
  const blocks = cols * rows;
  for (let b = 0; b < blocks; b++) {
    for (let c = 0; c < 3; c++) {
      const v = ycc[b * 3 + c] ?? 128;
      const t = c === 0 ? 0 : 1;
      // Level shift, then the DC coefficient of a flat block is 8 x (v - 128), quantized.
      const dc = Math.round((8 * (v - 128)) / q[t]);
      const diff = dc - (prev[c] ?? 0);
      prev[c] = dc;
      const mag = Math.abs(diff);
      const cat = mag === 0 ? 0 : 32 - Math.clz32(mag);
      const code = DC_CODES[t]?.[cat];
      if (!code) throw new Error(`DC difference ${diff} out of range`);
      w.bits(code.code, code.len);
      if (cat > 0) w.bits(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
      w.bits(0, 1); // EOB
    }
  }
  w.flush();
  const tail = Buffer.from([0xff, 0xd9]);
  return Buffer.concat([head, w.buf.subarray(0, w.pos), tail]);
}

/** RGB (0..255) to JPEG's full-range YCbCr. */
export function rgbToYcc(r: number, g: number, b: number): [number, number, number] {
  const clamp = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  return [clamp(0.299 * r + 0.587 * g + 0.114 * b), clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b), clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)];
}
