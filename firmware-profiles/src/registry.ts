/**
 * Loads profile files from disk: the built-in directory first, then operator directories
 * (e.g. /etc/edgehook/profiles), so a new board needs a JSON file, not a code change.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProfileError } from './errors.js';
import { collectProfiles } from './resolve.js';
import type { ProfileSource } from './resolve.js';
import type { Profile } from './schema.js';

/** Where operators drop extra profiles. */
export const OPERATOR_PROFILES_DIR = '/etc/edgehook/profiles';

export interface ProfileRegistry {
  /** The profile with this id; throws a ProfileError (NOT_FOUND) listing the known ids. */
  get(id: string): Profile;
  has(id: string): boolean;
  /** All profiles, sorted by id. */
  list(): Profile[];
  /** The directories that were searched, in load order. */
  readonly dirs: readonly string[];
}

/** The package's `profiles/` folder; the same relative path from src/ (tsx) and dist/. */
export function builtinProfilesDir(): string {
  return fileURLToPath(new URL('../profiles/', import.meta.url));
}

/** The built-in directory followed by the standard operator directory. */
export function defaultProfileDirs(): string[] {
  return [builtinProfilesDir(), OPERATOR_PROFILES_DIR];
}

/**
 * Reads every `*.json` in `dirs` (in order; a missing directory is skipped, since operator
 * directories are optional) and validates them together. Throws one ProfileError with
 * every problem from every file.
 */
export async function loadProfiles(dirs: string[]): Promise<ProfileRegistry> {
  const sources: ProfileSource[] = [];
  const problems: string[] = [];
  for (const [layer, dir] of dirs.entries()) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') continue;
      problems.push(`${dir}: cannot read profile directory: ${errorMessage(err)}`);
      continue;
    }
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      sources.push(await readSource(join(dir, name), layer));
    }
  }
  const result = collectProfiles(sources);
  problems.push(...result.problems);
  if (problems.length > 0) throw new ProfileError(problems);
  return createRegistry(result.profiles, dirs);
}

async function readSource(file: string, layer: number): Promise<ProfileSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { file, layer, data: undefined, readError: `cannot read file: ${errorMessage(err)}` };
  }
  try {
    return { file, layer, data: JSON.parse(text) };
  } catch (err) {
    return { file, layer, data: undefined, readError: `invalid JSON: ${errorMessage(err)}` };
  }
}

function createRegistry(profiles: ReadonlyMap<string, Profile>, dirs: readonly string[]): ProfileRegistry {
  const frozenDirs = [...dirs];
  return {
    dirs: frozenDirs,
    get(id) {
      const profile = profiles.get(id);
      if (profile === undefined) {
        const known = [...profiles.keys()].join(', ') || 'none';
        throw new ProfileError([`known profiles: ${known} (searched ${frozenDirs.join(', ')})`], `Unknown board profile '${id}'`, 'NOT_FOUND');
      }
      return profile;
    },
    has: (id) => profiles.has(id),
    list: () => [...profiles.values()],
  };
}

function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
