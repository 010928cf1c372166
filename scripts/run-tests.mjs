// Runs every *.test.ts under <workspace>/test, each file in its own Node process (a crash or a
// leaked handle stays in its file), and ends with the line "N passed, N failed".
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';

const root = fileURLToPath(new URL('..', import.meta.url));
const workspaces = ['shared', 'firmware-profiles', 'agent', 'control-plane'];
const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;
const perFileTimeoutMs = Number(process.env.EDGEHOOK_TEST_TIMEOUT_MS ?? 300_000);
const concurrency = Number(process.env.EDGEHOOK_TEST_JOBS ?? Math.max(1, Math.min(2, availableParallelism())));

function findTests(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = workspaces
  .flatMap((w) => findTests(join(root, w, 'test')))
  .filter((f) => !filter || filter.test(relative(root, f)))
  .sort();
if (files.length === 0) {
  console.error('no test files found' + (filter ? ` matching ${filter}` : ''));
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
let passed = 0;
let failed = 0;
const failures = [];

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n(killed after ${perFileTimeoutMs} ms)\n`;
      child.kill('SIGKILL');
    }, perFileTimeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const text = strip(output);
      const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? 0);
      const ok = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? 0);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(text)?.[1] ?? 0);
      let bad = total - ok - skipped;
      // A file that crashed or printed no summary counts as one failure, never as a pass.
      if (code !== 0 && bad === 0) bad = 1;
      if (total === 0 && bad === 0) bad = 1;
      passed += ok;
      failed += bad;
      const name = relative(root, file);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`${bad > 0 ? 'FAIL' : 'ok  '} ${name}  (${ok} passed${bad ? `, ${bad} failed` : ''}, ${secs}s)`);
      if (bad > 0 || process.env.EDGEHOOK_TEST_VERBOSE) {
        failures.push(name);
        console.log(text.split('\n').map((l) => '    ' + l).join('\n'));
      }
      resolve();
    });
  });
}

const queue = [...files];
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (queue.length > 0) await runFile(queue.shift());
  }),
);
if (failures.length > 0) console.log(`\nfailed files:\n  ${failures.join('\n  ')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
