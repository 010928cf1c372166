import { encodeFlatJpeg, rgbToYcc } from './flat-jpeg.js';

/** 3x5 digits (rows top to bottom, 3 bits each, MSB left) plus ':' and '.'. */
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 1, 1], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  ':': [0, 2, 0, 2, 0], '.': [0, 0, 0, 0, 2], ' ': [0, 0, 0, 0, 0], '#': [5, 7, 5, 7, 5],
};
const BARS: [number, number, number][] = [
  [192, 192, 192], [192, 192, 0], [0, 192, 192], [0, 192, 0], [192, 0, 192], [192, 0, 0], [0, 0, 192], [32, 32, 32],
];
const BAR_YCC = BARS.map(([r, g, b]) => rgbToYcc(r, g, b));
const WHITE = rgbToYcc(255, 255, 255);
const BLACK = rgbToYcc(0, 0, 0);
const ORANGE = rgbToYcc(255, 128, 0);

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/**
 * The simulated screen: scrolling colour bars, a bouncing square and the capture time
 * (HH:MM:SS.mmm, UTC) with a frame counter, so consecutive frames always differ. Drawn on a grid
 * of 8x8 blocks and encoded with the flat-block JPEG encoder. Width and height are rounded down
 * to multiples of 8.
 */
export class TestPattern {
  readonly cols: number;
  readonly rows: number;
  private readonly cells: Uint8Array;

  constructor(width: number, height: number) {
    this.cols = Math.max(1, Math.floor(width / 8));
    this.rows = Math.max(1, Math.floor(height / 8));
    this.cells = new Uint8Array(this.cols * this.rows * 3);
  }

  get width(): number {
    return this.cols * 8;
  }

  get height(): number {
    return this.rows * 8;
  }

  private set(col: number, row: number, c: [number, number, number]): void {
    if (col < 0 || row < 0 || col >= this.cols || row >= this.rows) return;
    const i = (row * this.cols + col) * 3;
    this.cells[i] = c[0];
    this.cells[i + 1] = c[1];
    this.cells[i + 2] = c[2];
  }

  private text(s: string, col: number, row: number, scale: number, color: [number, number, number]): void {
    let x = col;
    for (const ch of s) {
      const g = GLYPHS[ch] ?? GLYPHS[' '] ?? [];
      g.forEach((bits, gy) => {
        for (let gx = 0; gx < 3; gx++) {
          if (!((bits >> (2 - gx)) & 1)) continue;
          for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) this.set(x + gx * scale + dx, row + gy * scale + dy, color);
        }
      });
      x += 4 * scale;
    }
  }

  /** One frame at `frameNo`, stamped with `at` (epoch ms). */
  render(frameNo: number, at: number, quality: number): Buffer {
    const { cols, rows } = this;
    const barW = Math.max(1, Math.ceil(cols / BARS.length));
    for (let row = 0; row < rows; row++) {
      for (let col = 0; col < cols; col++) {
        const bar = BAR_YCC[Math.floor((col + frameNo) / barW) % BAR_YCC.length] ?? BLACK;
        this.set(col, row, bar);
      }
    }
    // A square bouncing across the screen.
    const size = Math.max(2, Math.floor(rows / 6));
    const spanX = Math.max(1, cols - size);
    const spanY = Math.max(1, rows - size);
    const px = Math.abs(((frameNo * 2) % (2 * spanX)) - spanX);
    const py = Math.abs(((frameNo * 1) % (2 * spanY)) - spanY);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) this.set(px + x, py + y, ORANGE);
    // The clock and frame number on a black band.
    const d = new Date(at);
    const clock = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}`;
    const scale = Math.max(1, Math.floor(cols / 80));
    const bandTop = Math.max(0, rows - 7 * scale * 2);
    for (let row = bandTop; row < rows; row++) for (let col = 0; col < cols; col++) this.set(col, row, BLACK);
    this.text(clock, scale, bandTop + scale, scale, WHITE);
    this.text(`#${frameNo % 1_000_000}`, scale, bandTop + 7 * scale, scale, WHITE);
    return encodeFlatJpeg(cols, rows, this.cells, quality);
  }
}
