import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestEngine } from './podman-engine.js';

/** The engine helper: skips locally but fails in CI when podman is missing (PATH without it). */
test('no podman: null locally, an error in CI', async () => {
  const saved = { PATH: process.env['PATH'], CI: process.env['CI'] };
  try {
    process.env['PATH'] = '/nonexistent-edgehook-path';
    delete process.env['CI'];
    assert.is(await startTestEngine(), null);
    process.env['CI'] = 'true';
    try {
      await startTestEngine();
      assert.unreachable('must throw in CI');
    } catch (err) {
      assert.match((err as Error).message, 'podman');
    }
  } finally {
    process.env['PATH'] = saved.PATH;
    if (saved.CI === undefined) delete process.env['CI'];
    else process.env['CI'] = saved.CI;
  }
});

test.run();
