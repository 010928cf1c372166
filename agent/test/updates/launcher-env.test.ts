import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

// The launcher as the unit starts it (agent/dist/updates/launcher.js is what the package bundles),
// with a stand-in agent that reports the environment it and a child of it see.
const LAUNCHER = fileURLToPath(new URL('../../dist/updates/launcher.js', import.meta.url));

test("the unit's GLIBC_TUNABLES reach the launcher's process but not the agent's children", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-launcher-env-'));
  try {
    const out = join(dir, 'seen.json');
    await mkdir(join(dir, 'versions/1.0.0/lib'), { recursive: true });
    await writeFile(
      join(dir, 'versions/1.0.0/lib/edgehook-agent.mjs'),
      [
        "import { execFileSync } from 'node:child_process';",
        "import { writeFileSync } from 'node:fs';",
        "const child = execFileSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.env.GLIBC_TUNABLES ?? null))'], { encoding: 'utf8' });",
        `writeFileSync(${JSON.stringify(out)}, JSON.stringify({ agent: process.env.GLIBC_TUNABLES ?? null, child: JSON.parse(child), mine: process.env.OTHER_VAR ?? null }));`,
      ].join('\n'),
    );
    await symlink('versions/1.0.0', join(dir, 'current'));
    const run = spawnSync(process.execPath, [LAUNCHER], { env: { ...process.env, EDGEHOOK_INSTALL_DIR: dir, GLIBC_TUNABLES: 'glibc.malloc.arena_max=1', OTHER_VAR: 'kept' }, encoding: 'utf8', timeout: 20_000 });
    assert.is(run.status, 0, run.stderr);
    assert.equal(JSON.parse(await readFile(out, 'utf8')), { agent: null, child: null, mine: 'kept' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
