import { createLogger, systemClock } from '@edgehook/shared';
import { defaultProfileDirs, loadProfiles, type Profile } from '@edgehook/firmware-profiles';

export const quietLog = createLogger({ level: 'error', format: 'json', write: () => undefined });
export const clock = systemClock;

export async function profile(id: string): Promise<Profile> {
  return (await loadProfiles(defaultProfileDirs())).get(id);
}

export const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The pikvmError class an EdgehookError carries, or its message when it has none. */
export async function rejection(p: Promise<unknown>): Promise<{ code: string; pikvm: string; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; details?: { pikvmError?: string }; message: string };
    return { code: e.code ?? '', pikvm: e.details?.pikvmError ?? '', message: e.message };
  }
  throw new Error('expected a rejection');
}
