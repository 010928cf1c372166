import * as z from '../zod.js';
import { transformIssue } from '../zod.js';

/**
 * The screen (streamer) and virtual media (msd) of a device, in kvmd 4.x's shapes so the /kvm
 * facade passes them through; the classic shapes of the seed's `*_state` events are derived
 * from these on the control plane (kvm/kvm-classic.ts).
 */

/** Stream kinds the agent registers for the KVM (see messages/streams.ts). */
export const KvmStreamKinds = { video: 'kvm-video', msdWrite: 'msd-write', msdDownload: 'msd-download', msdRead: 'msd-read' } as const;

// ---- streamer ----
export const Resolution = z.string().check(z.regex(/^[1-9]\d{0,4}x[1-9]\d{0,4}$/, 'a resolution like 1280x720'));
const Range = z.object({ min: z.number(), max: z.number() });
export const StreamerParams = z.object({ desired_fps: z.number().check(z.int()), quality: z.number().check(z.int()), resolution: z.optional(Resolution) });
export const UstreamerState = z.object({
  instance_id: z.string(),
  encoder: z.object({ type: z.string(), quality: z.number() }),
  source: z.object({ online: z.boolean(), resolution: z.object({ width: z.number(), height: z.number() }), captured_fps: z.number(), desired_fps: z.number() }),
  stream: z.object({ queued_fps: z.number(), clients: z.number(), clients_stat: z.record(z.string(), z.unknown()) }),
  sinks: z.object({ jpeg: z.object({ has_clients: z.boolean() }), h264: z.object({ has_clients: z.boolean() }) }),
});
export const StreamerState = z.object({
  features: z.object({ quality: z.boolean(), resolution: z.boolean(), h264: z.boolean() }),
  limits: z.object({ desired_fps: Range, available_resolutions: z.optional(z.array(Resolution)) }),
  params: StreamerParams,
  /** ustreamer's own /state while it runs, null while stopped (no viewer). */
  streamer: z.nullable(UstreamerState),
  snapshot: z.object({ saved: z.null() }),
});
export type StreamerState = z.infer<typeof StreamerState>;

/** Opens a viewer of the device's screen; `snapshot` ends after one frame (resized for a preview). */
export const VideoOpenSpec = z.strictObject({
    snapshot: z._default(z.boolean(), false),
    /** Keep the source running without receiving frames (kvmd's event socket with stream=1). */
    hold: z._default(z.boolean(), false),
    preview: z.optional(z.strictObject({ maxWidth: z.number().check(z.int(), z.gte(0), z.lte(10_000)), maxHeight: z.number().check(z.int(), z.gte(0), z.lte(10_000)), quality: z.number().check(z.int(), z.gte(1), z.lte(100)) })),
  });
export type VideoOpenSpec = z.input<typeof VideoOpenSpec>;

/**
 * Frames on a video stream: a 20-byte header (u32 BE JPEG length, f64 BE capture time in epoch
 * seconds, u16 BE width, u16 BE height, u8 flags (bit 0: online), 3 bytes zero) then the JPEG.
 * A viewer whose window is full skips whole frames, so a frame is never cut.
 */
export const VIDEO_FRAME_HEADER = 20;
export interface VideoFrameHeader {
  length: number;
  /** Epoch seconds. */
  at: number;
  width: number;
  height: number;
  online: boolean;
}
export function encodeVideoFrameHeader(h: VideoFrameHeader): Buffer {
  const b = Buffer.alloc(VIDEO_FRAME_HEADER);
  b.writeUInt32BE(h.length, 0);
  b.writeDoubleBE(h.at, 4);
  b.writeUInt16BE(h.width, 12);
  b.writeUInt16BE(h.height, 14);
  b.writeUInt8(h.online ? 1 : 0, 16);
  return b;
}
export function decodeVideoFrameHeader(b: Buffer): VideoFrameHeader {
  return { length: b.readUInt32BE(0), at: b.readDoubleBE(4), width: b.readUInt16BE(12), height: b.readUInt16BE(14), online: (b.readUInt8(16) & 1) === 1 };
}
export const VIDEO_FRAME_MAX = 8 * 1024 * 1024;

// ---- msd ----
const MsdImageInfo = z.object({ complete: z.boolean(), mod_ts: z.number(), removable: z.boolean(), size: z.number(), writable: z.boolean() });
export const MsdState = z.object({
  enabled: z.boolean(),
  online: z.boolean(),
  busy: z.boolean(),
  storage: z.nullable(z.object({
      images: z.record(z.string(), MsdImageInfo),
      parts: z.record(z.string(), z.object({ size: z.number(), free: z.number(), writable: z.boolean() })),
      downloading: z.nullable(z.object({ name: z.string(), size: z.number(), readed: z.number() })),
      uploading: z.nullable(z.object({ name: z.string(), size: z.number(), written: z.number() })),
    })),
  drive: z.nullable(z.object({ image: z.nullable(z.extend(MsdImageInfo, { name: z.string(), in_storage: z.boolean() })), connected: z.boolean(), cdrom: z.boolean(), rw: z.boolean() })),
});
export type MsdState = z.infer<typeof MsdState>;

/**
 * kvmd's valid_msd_image_name: '/'-separated parts, each a printable file name (no control
 * characters, not '.' or '..', at most 255 bytes) — we keep one level: no '/' at all.
 */
export const MsdImageName = z.pipe(z.pipe(z.string(), z.transform((v) => v.trim())), z.string().check(z.minLength(1, 'the image name is empty'), z.maxLength(255), z.refine((v) => !/[\x00-\x1f\x7f/\\]/.test(v), 'an image name may not contain control characters, / or \\'), z.refine((v) => v !== '.' && v !== '..' && !v.startsWith('.__'), 'not a valid image name')));

export const MsdWriteSpec = z.strictObject({ image: MsdImageName, size: z.number().check(z.int(), z.gte(0), z.lte(2 ** 44)), removeIncomplete: z._default(z.boolean(), false) });
export const MsdDownloadSpec = z.strictObject({ url: z.string().check(z.url(), z.maxLength(4096)), image: z.optional(MsdImageName), timeoutSec: z.number().check(z.gte(0.1), z.lte(3600)), insecure: z._default(z.boolean(), false), removeIncomplete: z._default(z.boolean(), false) });
/** `msd/read`: one stored image's bytes, in order, under the stream's credit. */
export const MsdReadSpec = z.strictObject({ image: MsdImageName });
/** What `write` and `write_remote` report, as kvmd. */
export const MsdWriteInfo = z.object({ image: z.object({ name: z.string(), size: z.number(), written: z.number() }) });

export const kvmMediaRpcDefinitions = {
  'streamer.state': { params: z.strictObject({}), result: StreamerState },
  'streamer.setParams': {
    params: z.strictObject({ quality: z.optional(z.number().check(z.int(), z.gte(1), z.lte(100))), desired_fps: z.optional(z.number().check(z.int(), z.gte(0), z.lte(120))), resolution: z.optional(Resolution) }),
    result: z.object({}),
  },
  'msd.state': { params: z.strictObject({}), result: MsdState },
  /** `image` '' ejects; `cdrom`/`rw` change the media type. Refused while connected. */
  'msd.setParams': { params: z.strictObject({ image: z.optional(z.union([MsdImageName, z.literal('')])), cdrom: z.optional(z.boolean()), rw: z.optional(z.boolean()) }), result: z.object({}) },
  'msd.setConnected': { params: z.strictObject({ connected: z.boolean() }), result: z.object({}) },
  'msd.remove': { params: z.strictObject({ image: MsdImageName }), result: z.object({}) },
  'msd.reset': { params: z.strictObject({}), result: z.object({}) },
} as const;

// ---- kvmd query strings ----
const KvmIntIn = (min: number, max: number, what: string) =>
  z.pipe(z.string(), z.transform((v, ctx) => {
    const n = Number(v.trim());
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      transformIssue(ctx, `The argument ${JSON.stringify(v)} is not a valid ${what} (${min}..${max})`);
      return z.NEVER;
    }
    return Math.trunc(n);
  }));
const Flag = z.pipe(z.string(), z.transform((v, ctx) => {
  const w = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(w)) return true;
  if (['0', 'false', 'no', 'off'].includes(w)) return false;
  transformIssue(ctx, `The argument ${JSON.stringify(v)} is not a valid bool`);
  return z.NEVER;
}));
export const KvmSnapshotQuery = z.object({
  save: z._default(Flag, false),
  load: z._default(Flag, false),
  allow_offline: z._default(Flag, false),
  ocr: z._default(Flag, false),
  preview: z._default(Flag, false),
  preview_max_width: z._default(KvmIntIn(0, 10_000, 'preview width'), 0),
  preview_max_height: z._default(KvmIntIn(0, 10_000, 'preview height'), 0),
  preview_quality: z._default(KvmIntIn(1, 100, 'stream quality'), 80),
});
/** Empty values are ignored, as kvmd does (`if value:`). */
export const KvmStreamerSetParamsQuery = z.object({
  quality: z.optional(KvmIntIn(1, 100, 'stream quality')),
  desired_fps: z.optional(KvmIntIn(0, 120, 'stream FPS')),
  resolution: z.optional(Resolution),
  h264_bitrate: z.optional(z.string()),
  h264_gop: z.optional(z.string()),
});
/** ustreamer's /stream options we honour. */
export const KvmStreamQuery = z.object({ extra_headers: z._default(Flag, false), key: z.optional(z.string().check(z.maxLength(64))) });

export const KvmMsdSetParamsQuery = z.object({ image: z.optional(z.string().check(z.maxLength(4096))), cdrom: z.optional(Flag), rw: z.optional(Flag) });
export const KvmMsdConnectedQuery = z.object({ connected: Flag });
export const KvmMsdImageQuery = z.object({ image: MsdImageName });
export const KvmMsdWriteQuery = z.object({ image: z._default(z.string().check(z.maxLength(4096)), ''), prefix: z._default(z.string().check(z.maxLength(4096)), ''), remove_incomplete: z._default(Flag, false) });
export const KvmMsdWriteRemoteQuery = z.object({
  url: z.string().check(z.minLength(1), z.maxLength(4096)),
  image: z.optional(z.string().check(z.maxLength(4096))),
  prefix: z._default(z.string().check(z.maxLength(4096)), ''),
  insecure: z._default(Flag, false),
  timeout: z._default(z.pipe(z.string(), z.transform((v, ctx) => {
      const n = Number(v.trim());
      if (v.trim() === '' || !Number.isFinite(n) || n < 0.1) {
        transformIssue(ctx, `The argument ${JSON.stringify(v)} is not a valid float >= 0.1`);
        return z.NEVER;
      }
      return n;
    })), 10),
  remove_incomplete: z._default(Flag, false),
});
/** kvmd's msd/read: `compress` picks a stream compressor; kvmd has lzma and zstd (not in Node 20). */
export const KvmMsdReadQuery = z.object({ image: z.string().check(z.maxLength(4096)), compress: z._default(z.enum(['', 'none', 'lzma', 'zstd'], { message: 'Compression mode: one of "", none, lzma, zstd' }), '') });
