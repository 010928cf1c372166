export * from './schema.js';
export { ProfileError, formatPath } from './errors.js';
export { checkProfile, PULSE_MAX_SECONDS } from './validate.js';
export type { Issue } from './validate.js';
export { mergeProfileFiles } from './merge.js';
export { resolveProfiles, collectProfiles } from './resolve.js';
export type { ProfileSource } from './resolve.js';
export { loadProfiles, builtinProfilesDir, defaultProfileDirs, OPERATOR_PROFILES_DIR } from './registry.js';
export type { ProfileRegistry } from './registry.js';
