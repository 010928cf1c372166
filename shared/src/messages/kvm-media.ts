import { z } from 'zod';

/**
 * The screen (streamer) and virtual media (msd) of a device, in kvmd 4.x's shapes so the /kvm
 * facade passes them through; the classic shapes of the seed's `*_state` events are derived
 * from these on the control plane (kvm/kvm-classic.ts).
 */

/** Stream kinds the agent registers for the KVM (see messages/streams.ts). */
export const KvmStreamKinds = { video: 'kvm-video', msdWrite: 'msd-write', msdDownload: 'msd-download', msdRead: 'msd-read' } as const;

// ---- streamer ----
export const Resolution = z.string().regex(/^[1-9]\d{0,4}x[1-9]\d{0,4}$/, 'a resolution like 1280x720');
const Range = z.object({ min: z.number(), max: z.number() });
export const StreamerParams = z.object({ desired_fps: z.number().int(), quality: z.number().int(), resolution: Resolution.optional() });
export const UstreamerState = z.object({
  instance_id: z.string(),
  encoder: z.object({ type: z.string(), quality: z.number() }),
  source: z.object({ online: z.boolean(), resolution: z.object({ width: z.number(), height: z.number() }), captured_fps: z.number(), desired_fps: z.number() }),
  stream: z.object({ queued_fps: z.number(), clients: z.number(), clients_stat: z.record(z.string(), z.unknown()) }),
  sinks: z.object({ jpeg: z.object({ has_clients: z.boolean() }), h264: z.object({ has_clients: z.boolean() }) }),
});
export const StreamerState = z.object({
  features: z.object({ quality: z.boolean(), resolution: z.boolean(), h264: z.boolean() }),
  limits: z.object({ desired_fps: Range, available_resolutions: z.array(Resolution).optional() }),
  params: StreamerParams,
  /** ustreamer's own /state while it runs, null while stopped (no viewer). */
  streamer: UstreamerState.nullable(),
  snapshot: z.object({ saved: z.null() }),
});
export type StreamerState = z.infer<typeof StreamerState>;

/** Opens a viewer of the device's screen; `snapshot` ends after one frame (resized for a preview). */
export const VideoOpenSpec = z
  .object({
    snapshot: z.boolean().default(false),
    /** Keep the source running without receiving frames (kvmd's event socket with stream=1). */
    hold: z.boolean().default(false),
    preview: z.object({ maxWidth: z.number().int().min(0).max(10_000), maxHeight: z.number().int().min(0).max(10_000), quality: z.number().int().min(1).max(100) }).strict().optional(),
  })
  .strict();
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
  storage: z
    .object({
      images: z.record(z.string(), MsdImageInfo),
      parts: z.record(z.string(), z.object({ size: z.number(), free: z.number(), writable: z.boolean() })),
      downloading: z.object({ name: z.string(), size: z.number(), readed: z.number() }).nullable(),
      uploading: z.object({ name: z.string(), size: z.number(), written: z.number() }).nullable(),
    })
    .nullable(),
  drive: z.object({ image: MsdImageInfo.extend({ name: z.string(), in_storage: z.boolean() }).nullable(), connected: z.boolean(), cdrom: z.boolean(), rw: z.boolean() }).nullable(),
});
export type MsdState = z.infer<typeof MsdState>;

/**
 * kvmd's valid_msd_image_name: '/'-separated parts, each a printable file name (no control
 * characters, not '.' or '..', at most 255 bytes) — we keep one level: no '/' at all.
 */
export const MsdImageName = z
  .string()
  .transform((v) => v.trim())
  .pipe(
    z
      .string()
      .min(1, 'the image name is empty')
      .max(255)
      .refine((v) => !/[\x00-\x1f\x7f/\\]/.test(v), 'an image name may not contain control characters, / or \\')
      .refine((v) => v !== '.' && v !== '..' && !v.startsWith('.__'), 'not a valid image name'),
  );

export const MsdWriteSpec = z.object({ image: MsdImageName, size: z.number().int().min(0).max(2 ** 44), removeIncomplete: z.boolean().default(false) }).strict();
export const MsdDownloadSpec = z.object({ url: z.string().url().max(4096), image: MsdImageName.optional(), timeoutSec: z.number().min(0.1).max(3600), insecure: z.boolean().default(false), removeIncomplete: z.boolean().default(false) }).strict();
/** `msd/read`: one stored image's bytes, in order, under the stream's credit. */
export const MsdReadSpec = z.object({ image: MsdImageName }).strict();
/** What `write` and `write_remote` report, as kvmd. */
export const MsdWriteInfo = z.object({ image: z.object({ name: z.string(), size: z.number(), written: z.number() }) });

export const kvmMediaRpcDefinitions = {
  'streamer.state': { params: z.object({}).strict(), result: StreamerState },
  'streamer.setParams': {
    params: z.object({ quality: z.number().int().min(1).max(100).optional(), desired_fps: z.number().int().min(0).max(120).optional(), resolution: Resolution.optional() }).strict(),
    result: z.object({}),
  },
  'msd.state': { params: z.object({}).strict(), result: MsdState },
  /** `image` '' ejects; `cdrom`/`rw` change the media type. Refused while connected. */
  'msd.setParams': { params: z.object({ image: z.union([MsdImageName, z.literal('')]).optional(), cdrom: z.boolean().optional(), rw: z.boolean().optional() }).strict(), result: z.object({}) },
  'msd.setConnected': { params: z.object({ connected: z.boolean() }).strict(), result: z.object({}) },
  'msd.remove': { params: z.object({ image: MsdImageName }).strict(), result: z.object({}) },
  'msd.reset': { params: z.object({}).strict(), result: z.object({}) },
} as const;

// ---- kvmd query strings ----
const KvmIntIn = (min: number, max: number, what: string) =>
  z.string().transform((v, ctx) => {
    const n = Number(v.trim());
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `The argument ${JSON.stringify(v)} is not a valid ${what} (${min}..${max})` });
      return z.NEVER;
    }
    return Math.trunc(n);
  });
const Flag = z.string().transform((v, ctx) => {
  const w = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(w)) return true;
  if (['0', 'false', 'no', 'off'].includes(w)) return false;
  ctx.addIssue({ code: 'custom', message: `The argument ${JSON.stringify(v)} is not a valid bool` });
  return z.NEVER;
});
export const KvmSnapshotQuery = z.object({
  save: Flag.default(false),
  load: Flag.default(false),
  allow_offline: Flag.default(false),
  ocr: Flag.default(false),
  preview: Flag.default(false),
  preview_max_width: KvmIntIn(0, 10_000, 'preview width').default(0),
  preview_max_height: KvmIntIn(0, 10_000, 'preview height').default(0),
  preview_quality: KvmIntIn(1, 100, 'stream quality').default(80),
});
/** Empty values are ignored, as kvmd does (`if value:`). */
export const KvmStreamerSetParamsQuery = z.object({
  quality: KvmIntIn(1, 100, 'stream quality').optional(),
  desired_fps: KvmIntIn(0, 120, 'stream FPS').optional(),
  resolution: Resolution.optional(),
  h264_bitrate: z.string().optional(),
  h264_gop: z.string().optional(),
});
/** ustreamer's /stream options we honour. */
export const KvmStreamQuery = z.object({ extra_headers: Flag.default(false), key: z.string().max(64).optional() });

export const KvmMsdSetParamsQuery = z.object({ image: z.string().max(4096).optional(), cdrom: Flag.optional(), rw: Flag.optional() });
export const KvmMsdConnectedQuery = z.object({ connected: Flag });
export const KvmMsdImageQuery = z.object({ image: MsdImageName });
export const KvmMsdWriteQuery = z.object({ image: z.string().max(4096).default(''), prefix: z.string().max(4096).default(''), remove_incomplete: Flag.default(false) });
export const KvmMsdWriteRemoteQuery = z.object({
  url: z.string().min(1).max(4096),
  image: z.string().max(4096).optional(),
  prefix: z.string().max(4096).default(''),
  insecure: Flag.default(false),
  timeout: z
    .string()
    .transform((v, ctx) => {
      const n = Number(v.trim());
      if (v.trim() === '' || !Number.isFinite(n) || n < 0.1) {
        ctx.addIssue({ code: 'custom', message: `The argument ${JSON.stringify(v)} is not a valid float >= 0.1` });
        return z.NEVER;
      }
      return n;
    })
    .default(10),
  remove_incomplete: Flag.default(false),
});
/** kvmd's msd/read: `compress` picks a stream compressor; kvmd has lzma and zstd (not in Node 20). */
export const KvmMsdReadQuery = z.object({ image: z.string().max(4096), compress: z.enum(['', 'none', 'lzma', 'zstd'], { message: 'Compression mode: one of "", none, lzma, zstd' }).default('') });
