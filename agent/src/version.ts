import { readFileSync } from 'node:fs';

/**
 * The agent's version, reported at enrollment, in every `hello`, in `--version` and the PiKVM
 * info: the `version` of the package.json beside its code (`../package.json` from both
 * agent/dist/ and the package's lib/), so a published package reports what it was published as.
 */
function readVersion(): string {
  try {
    const parsed: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string' && /^[0-9A-Za-z.+-]{1,64}$/.test(parsed.version)) return parsed.version;
  } catch {
    // A layout without it (a bundle moved elsewhere): the built-in fallback below.
  }
  return '0.1.0';
}

export const AGENT_VERSION = readVersion();
