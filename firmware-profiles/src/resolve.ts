/**
 * Turns profile sources (already-read JSON) into validated profiles: shape check per file,
 * layering rules, `extends` resolution, then semantic checks on each merged result.
 * Pure, so the control plane can validate an uploaded profile with the same rules.
 */
import { basename } from 'node:path';
import type * as z from '@edgehook/shared/zod';
import { ProfileError, problem } from './errors.js';
import { mergeProfileFiles } from './merge.js';
import { profileFileSchema, profileSchema } from './schema.js';
import type { ParsedProfileFile, Profile } from './schema.js';
import { checkProfile } from './validate.js';

export interface ProfileSource {
  /** Shown in errors; its name without `.json` must equal the profile id. */
  file: string;
  /** Directory index: 0 for built-ins, higher for operator dirs loaded later. */
  layer: number;
  /** Parsed JSON. */
  data: unknown;
  /** Set instead of `data` when the file could not be read or parsed. */
  readError?: string;
}

interface Entry {
  file: string;
  layer: number;
  parsed: ParsedProfileFile;
}

/** zod's default for a missing field ("expected string, received undefined") hides the point. */
const requiredMessage: z.core.$ZodErrorMap = (iss) =>
  iss.code === 'invalid_type' && iss.input === undefined ? 'is required' : undefined;

/** Resolves every source, or throws one ProfileError listing all problems. */
export function resolveProfiles(sources: readonly ProfileSource[]): Map<string, Profile> {
  const { profiles, problems } = collectProfiles(sources);
  if (problems.length > 0) throw new ProfileError(problems);
  return profiles;
}

/** Like resolveProfiles but returns problems instead of throwing. */
export function collectProfiles(sources: readonly ProfileSource[]): { profiles: Map<string, Profile>; problems: string[] } {
  const problems: string[] = [];
  const { entries, broken } = indexSources(sources, problems);
  const profiles = new Map<string, Profile>();
  /** Merged-but-undefaulted file per id, for children to build on; null once it has failed. */
  const done = new Map<string, ParsedProfileFile | null>();

  const resolve = (id: string, chain: readonly string[]): ParsedProfileFile | null => {
    const cached = done.get(id);
    if (cached !== undefined) return cached;
    const entry = entries.get(id);
    if (entry === undefined) return null;
    const fail = (path: PropertyKey[], message: string): null => {
      problems.push(problem(entry.file, path, message));
      done.set(id, null);
      return null;
    };

    let merged = entry.parsed;
    const baseId = entry.parsed.extends;
    if (baseId !== undefined) {
      const loop = chain.indexOf(baseId);
      if (loop >= 0) {
        // Report on every member so each file in the loop says why it failed.
        const cycle = [...chain.slice(loop), baseId].join(' -> ');
        for (const member of chain.slice(loop)) {
          const memberEntry = entries.get(member);
          if (memberEntry !== undefined) problems.push(problem(memberEntry.file, ['extends'], `extends cycle: ${cycle}`));
          done.set(member, null);
        }
        return null;
      }
      if (!entries.has(baseId)) {
        return broken.has(baseId)
          ? fail(['extends'], `base profile '${baseId}' has errors (see its file)`)
          : fail(['extends'], `unknown profile '${baseId}' (known: ${[...entries.keys()].sort().join(', ') || 'none'})`);
      }
      const base = resolve(baseId, [...chain, baseId]);
      if (base === null) {
        if (done.has(id)) return null; // already reported as part of a cycle
        return fail(['extends'], `base profile '${baseId}' is invalid (see its errors)`);
      }
      merged = mergeProfileFiles(base, entry.parsed);
    }

    const suffix = baseId === undefined ? '' : ` (after merging base '${baseId}')`;
    const result = profileSchema.safeParse(merged, { error: requiredMessage });
    if (!result.success) {
      for (const issue of result.error.issues) problems.push(problem(entry.file, issue.path, issue.message + suffix));
      done.set(id, null);
      return null;
    }
    const issues = checkProfile(result.data);
    if (issues.length > 0) {
      for (const issue of issues) problems.push(problem(entry.file, issue.path, issue.message + suffix));
      done.set(id, null);
      return null;
    }
    profiles.set(id, result.data);
    done.set(id, merged);
    return merged;
  };

  for (const id of entries.keys()) resolve(id, [id]);
  // Code-point order, not localeCompare: for ids ([a-z0-9-]) it is the same order, and collation
  // would page in ICU data, ~2.7 MB of RSS the agent keeps (issue 12's lean agent).
  return { profiles: new Map([...profiles].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), problems };
}

/** Shape-checks each file and applies the layering rules; returns the winning file per id. */
function indexSources(sources: readonly ProfileSource[], problems: string[]): { entries: Map<string, Entry>; broken: Set<string> } {
  const entries = new Map<string, Entry>();
  // Ids (file names) whose file failed, so `extends` can blame the base instead of "unknown".
  const broken = new Set<string>();
  for (const src of sources) {
    const stem = basename(src.file).replace(/\.json$/i, '');
    if (src.readError !== undefined) {
      problems.push(`${src.file}: ${src.readError}`);
      broken.add(stem);
      continue;
    }
    const result = profileFileSchema.safeParse(src.data, { error: requiredMessage });
    if (!result.success) {
      for (const issue of result.error.issues) problems.push(problem(src.file, issue.path, issue.message));
      broken.add(stem);
      continue;
    }
    const parsed = result.data;
    if (parsed.id !== stem) {
      problems.push(problem(src.file, ['id'], `id '${parsed.id}' does not match the file name; use '${stem}' or rename the file to '${parsed.id}.json'`));
      broken.add(stem);
      continue;
    }
    const prev = entries.get(parsed.id);
    if (prev !== undefined && (prev.layer === src.layer || parsed.override !== true)) {
      const hint = prev.layer === src.layer ? '' : '; set "override": true to replace it';
      problems.push(problem(src.file, ['id'], `profile '${parsed.id}' is already defined by ${prev.file}${hint}`));
      continue;
    }
    entries.set(parsed.id, { file: src.file, layer: src.layer, parsed });
  }
  return { entries, broken };
}
