import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { ProfileError } from '../src/errors.js';
import type { ProfileFile } from '../src/schema.js';

const made: string[] = [];

/** A temp directory holding the given files; values that are strings are written verbatim. */
export async function profileDir(files: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-profiles-'));
  made.push(dir);
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

export async function cleanup(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** A minimal valid profile with two ATX-ready channel pairs, to be broken by each test. */
export function validProfile(id: string, extra: Partial<ProfileFile> = {}): ProfileFile {
  return {
    id,
    name: `Test ${id}`,
    platform: { type: 'simulated' },
    gpio: {
      channels: {
        power: { line: 23, direction: 'output', switch: false },
        reset: { line: 27, direction: 'output', switch: false },
        'power-led': { line: 24, direction: 'input' },
        'hdd-led': { line: 22, direction: 'input' },
      },
    },
    atx: { power: 'power', reset: 'reset', powerLed: 'power-led', hddLed: 'hdd-led' },
    ...extra,
  };
}

/** Awaits a rejection and checks it is a ProfileError whose message contains every fragment. */
export async function expectProfileError(promise: Promise<unknown>, fragments: string[]): Promise<ProfileError> {
  try {
    await promise;
  } catch (err) {
    if (!(err instanceof ProfileError)) throw err;
    for (const fragment of fragments) {
      assert.ok(err.message.includes(fragment), `expected message to contain ${JSON.stringify(fragment)}, got:\n${err.message}`);
    }
    return err;
  }
  assert.unreachable('expected a ProfileError');
  throw new Error('unreachable');
}
