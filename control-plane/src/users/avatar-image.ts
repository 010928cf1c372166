/**
 * Profile pictures: the type is sniffed from the bytes (never the client's Content-Type or file
 * name) and the dimensions parsed from the image header, so a file that only claims to be an image
 * is refused. We validate rather than re-encode: no image codec runs on untrusted bytes here.
 */
export const AVATAR_MAX_BYTES = 1024 * 1024;
export const AVATAR_MAX_SIDE = 4096;

export type AvatarMime = 'image/png' | 'image/jpeg' | 'image/webp';
export type ImageCheck = { ok: true; mime: AvatarMime; width: number; height: number } | { ok: false; reason: string };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// JPEG start-of-frame markers (every SOFn except DHT C4, JPG C8 and DAC CC).
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function png(b: Buffer): ImageCheck | undefined {
  if (b.length < 8 || !b.subarray(0, 8).equals(PNG_SIGNATURE)) return undefined;
  if (b.length < 33 || b.toString('latin1', 12, 16) !== 'IHDR') return { ok: false, reason: 'the PNG has no IHDR header' };
  return sized('image/png', b.readUInt32BE(16), b.readUInt32BE(20));
}

function jpeg(b: Buffer): ImageCheck | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8 || b[2] !== 0xff) return undefined;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return { ok: false, reason: 'the JPEG has a broken segment' };
    const marker = b[i + 1] ?? 0;
    if (marker === 0xff) {
      i += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break;
    const length = b.readUInt16BE(i + 2);
    if (length < 2) return { ok: false, reason: 'the JPEG has a broken segment' };
    if (SOF.has(marker)) {
      if (i + 9 > b.length) break;
      return sized('image/jpeg', b.readUInt16BE(i + 7), b.readUInt16BE(i + 5));
    }
    i += 2 + length;
  }
  return { ok: false, reason: 'the JPEG has no frame header' };
}

function webp(b: Buffer): ImageCheck | undefined {
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WEBP') return undefined;
  if (b.readUInt32LE(4) + 8 > b.length) return { ok: false, reason: 'the WebP file is truncated' };
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8 ' && b.length >= 30 && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return sized('image/webp', b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff);
  }
  if (chunk === 'VP8L' && b.length >= 25 && b[20] === 0x2f) {
    const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = b.subarray(21, 25);
    return sized('image/webp', 1 + (b0 | ((b1 & 0x3f) << 8)), 1 + ((b1 >> 6) | (b2 << 2) | ((b3 & 0x0f) << 10)));
  }
  if (chunk === 'VP8X' && b.length >= 30) return sized('image/webp', 1 + b.readUIntLE(24, 3), 1 + b.readUIntLE(27, 3));
  return { ok: false, reason: 'the WebP file has no image header' };
}

function sized(mime: AvatarMime, width: number, height: number): ImageCheck {
  if (width < 1 || height < 1) return { ok: false, reason: 'the image has no pixels' };
  if (width > AVATAR_MAX_SIDE || height > AVATAR_MAX_SIDE) return { ok: false, reason: `the image is ${width}x${height}; at most ${AVATAR_MAX_SIDE}x${AVATAR_MAX_SIDE}` };
  return { ok: true, mime, width, height };
}

export function checkAvatarImage(bytes: Buffer): ImageCheck {
  if (bytes.length === 0) return { ok: false, reason: 'the file is empty' };
  if (bytes.length > AVATAR_MAX_BYTES) return { ok: false, reason: `the file has ${bytes.length} bytes; at most 1 MB` };
  return png(bytes) ?? jpeg(bytes) ?? webp(bytes) ?? { ok: false, reason: 'not a PNG, JPEG or WebP image' };
}
