import type { VideoFrame } from './video-source.js';

/**
 * kvmd's snapshot preview: fit within max_width x max_height keeping the aspect ratio (both 0:
 * a fifth of the frame), never larger than the frame; the frame itself when nothing changes.
 */
export function previewSize(frame: { width: number; height: number }, maxWidth: number, maxHeight: number): { width: number; height: number } {
  let w = maxWidth;
  let h = maxHeight;
  if (w === 0 && h === 0) {
    w = Math.floor(frame.width / 5);
    h = Math.floor(frame.height / 5);
  } else {
    w = Math.min(w || frame.width, frame.width);
    h = Math.min(h || frame.height, frame.height);
  }
  const scale = Math.min(w / frame.width, h / frame.height, 1);
  return { width: Math.max(1, Math.round(frame.width * scale)), height: Math.max(1, Math.round(frame.height * scale)) };
}

/** Decodes, scales by area averaging, re-encodes at `quality` (jpeg-js, loaded on first use). */
export async function makePreview(frame: VideoFrame, maxWidth: number, maxHeight: number, quality: number): Promise<VideoFrame> {
  const size = previewSize(frame, maxWidth, maxHeight);
  if (size.width === frame.width && size.height === frame.height) return frame;
  const jpeg = (await import('jpeg-js')).default;
  const src = jpeg.decode(frame.jpeg, { useTArray: true, maxResolutionInMP: 40, maxMemoryUsageInMB: 256 });
  const out = new Uint8Array(size.width * size.height * 4);
  const sx = src.width / size.width;
  const sy = src.height / size.height;
  for (let y = 0; y < size.height; y++) {
    const y0 = Math.floor(y * sy);
    const y1 = Math.max(y0 + 1, Math.floor((y + 1) * sy));
    for (let x = 0; x < size.width; x++) {
      const x0 = Math.floor(x * sx);
      const x1 = Math.max(x0 + 1, Math.floor((x + 1) * sx));
      let r = 0;
      let g = 0;
      let b = 0;
      let n = 0;
      for (let yy = y0; yy < y1; yy++) {
        for (let xx = x0; xx < x1; xx++) {
          const i = (yy * src.width + xx) * 4;
          r += src.data[i] ?? 0;
          g += src.data[i + 1] ?? 0;
          b += src.data[i + 2] ?? 0;
          n++;
        }
      }
      const o = (y * size.width + x) * 4;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
      out[o + 3] = 255;
    }
  }
  const encoded = jpeg.encode({ data: out, width: size.width, height: size.height }, quality);
  return { ...frame, jpeg: Buffer.from(encoded.data), width: size.width, height: size.height };
}
