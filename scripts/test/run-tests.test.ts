// The runner's own test: each fixture runs through scripts/run-tests.mjs as `npm test` runs files,
// and the final line and exit code must tell the truth.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string) => `scripts/test/fixtures/${name}.fixture.ts`;

function run(names: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', '--', ...names.map(fixture)], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const lines = r.stdout.trim().split('\n');
  return { code: r.status, last: lines[lines.length - 1], out: r.stdout };
}

test('a passing file passes and exits 0', () => {
  const r = run(['pass']);
  assert.is(r.last, '2 passed, 0 failed');
  assert.is(r.code, 0);
});

test('a failing file fails the run', () => {
  const r = run(['fail']);
  assert.is(r.last, '1 passed, 1 failed');
  assert.is(r.code, 1);
});

test('skipped tests beside a failure: the failure still counts, nothing goes negative', () => {
  const r = run(['skip-and-fail']);
  assert.is(r.last, '1 passed, 1 failed');
  assert.is(r.code, 1);
});

test('skipped tests alone do not fail the run', () => {
  const r = run(['skip-only']);
  assert.is(r.last, '1 passed, 0 failed');
  assert.is(r.code, 0);
});

test('a file that crashes before its summary counts as a failure', () => {
  const r = run(['crash']);
  assert.is(r.last, '0 passed, 1 failed');
  assert.is(r.code, 1);
});

test('only the last summary counts, not one a test printed', () => {
  const r = run(['fake-summary']);
  assert.is(r.last, '0 passed, 1 failed');
  assert.is(r.code, 1);
});

test('a file that prints no summary and exits 0 is a failure', () => {
  const r = run(['no-summary']);
  assert.is(r.last, '0 passed, 1 failed');
  assert.ok(r.out.includes('printed no test summary'));
  assert.is(r.code, 1);
});

test('a file that times out is killed and counts as a failure', () => {
  const r = run(['hang'], { EDGEHOOK_TEST_TIMEOUT_MS: '1500' });
  assert.is(r.last, '0 passed, 1 failed');
  assert.ok(r.out.includes('timed out'));
  assert.is(r.code, 1);
});

test('a file that prints far more than is kept still counts its tests, and the runner says what it left out', () => {
  const r = run(['flood'], { EDGEHOOK_TEST_OUTPUT_CAP: String(64 * 1024) });
  assert.is(r.last, '1 passed, 1 failed');
  assert.is(r.code, 1);
  assert.match(r.out, /\(\.\.\. \d+ characters of output left out \.\.\.\)/);
  assert.ok(r.out.length < 200 * 1024, `runner printed ${r.out.length} characters`);
});

test('counts add up across files', () => {
  const r = run(['pass', 'skip-and-fail', 'crash']);
  assert.is(r.last, '3 passed, 2 failed');
  assert.is(r.code, 1);
});

test.run();
