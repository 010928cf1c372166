import { useEffect, useState } from 'preact/hooks';
import { ApiError, request } from './api.js';

// One counter for the whole page: after an upload every <Avatar> of that user refetches.
const versions = new Map<string, number>();
const listeners = new Set<() => void>();
function bump(userId: string): void {
  versions.set(userId, (versions.get(userId) ?? 0) + 1);
  for (const l of listeners) l();
}

/** The user's profile picture, or their initial when they have none (the GET answers 404). */
export function Avatar({ userId, name, size = 28 }: { userId: string; name: string; size?: number }) {
  const [, setTick] = useState(0);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    const l = () => {
      setMissing(false);
      setTick((n) => n + 1);
    };
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  const style = { width: `${size}px`, height: `${size}px` };
  if (missing) return <span class="avatar avatar-initial" style={style} aria-hidden="true">{name.slice(0, 1).toUpperCase()}</span>;
  const v = versions.get(userId) ?? 0;
  return <img class="avatar" style={style} src={`/api/users/${encodeURIComponent(userId)}/avatar${v ? `?v=${v}` : ''}`} alt={`Picture of ${name}`} onError={() => setMissing(true)} />;
}

const MAX = 1024 * 1024;

/** Uploads a PNG, JPEG or WebP (the server sniffs and checks it; this only saves a round trip). */
export async function uploadAvatar(userId: string, file: File): Promise<void> {
  if (file.size > MAX) throw new ApiError(400, 'BAD_REQUEST', 'profile pictures are at most 1 MB');
  await request('PUT', `/api/users/${encodeURIComponent(userId)}/avatar`, undefined, { body: file, headers: { 'content-type': 'application/octet-stream' } });
  bump(userId);
}

export async function removeAvatar(userId: string): Promise<void> {
  await request('DELETE', `/api/users/${encodeURIComponent(userId)}/avatar`);
  bump(userId);
}

/** A file picker for a picture, reporting errors through onError. */
export function AvatarPicker({ userId, label, onError }: { userId: string; label: string; onError: (e: unknown) => void }) {
  return (
    <label class="avatar-pick">
      {label}
      <input
        type="file"
        accept="image/png,image/jpeg,image/webp"
        onChange={(e) => {
          const input = e.currentTarget;
          const file = input.files?.[0];
          if (file) void uploadAvatar(userId, file).then(() => onError(null), onError).finally(() => (input.value = ''));
        }}
      />
    </label>
  );
}
