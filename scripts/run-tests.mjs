// Runs every *.test.ts under <workspace>/test, each file in its own Node process (a crash or a
// leaked handle stays in its file), and ends with the line "N passed, N failed".
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { fileResult } from './test-summary.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const workspaces = ['shared', 'firmware-profiles', 'agent', 'control-plane', 'scripts'];
// `run-tests.mjs [pattern]` runs the suite (filtered); `run-tests.mjs -- FILE...` runs just those
// files (the runner's own test uses it on fixtures).
const args = process.argv.slice(2);
const explicit = args[0] === '--' ? args.slice(1) : null;
const filter = !explicit && args[0] ? new RegExp(args[0]) : null;
const perFileTimeoutMs = Number(process.env.EDGEHOOK_TEST_TIMEOUT_MS ?? 300_000);
const concurrency = Number(process.env.EDGEHOOK_TEST_JOBS ?? Math.max(1, Math.min(2, availableParallelism())));
// What is kept of a file's output (in characters): its start and its end (where uvu's summary is). A file that
// prints without end must fail as a file, not crash the runner with a string too long for V8.
const outputCapChars = Number(process.env.EDGEHOOK_TEST_OUTPUT_CAP ?? 4 * 1024 * 1024);

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

const files = explicit
  ? explicit.map((f) => resolve(f))
  : workspaces
      .flatMap((w) => findTests(join(root, w, 'test')))
      .filter((f) => !filter || filter.test(relative(root, f)))
      .sort();
if (files.length === 0) {
  console.error('no test files found' + (filter ? ` matching ${filter}` : ''));
  console.log('0 passed, 1 failed');
  process.exit(1);
}

let passed = 0;
let failed = 0;
const failures = [];

/** Keeps the first quarter of `cap` characters and the last three quarters; says how much it left out. */
function capture(cap) {
  const headCap = Math.floor(cap / 4);
  const tailCap = cap - headCap;
  let head = '';
  let tail = '';
  let dropped = 0;
  return {
    add(chunk) {
      let s = String(chunk);
      if (head.length < headCap) {
        const take = s.slice(0, headCap - head.length);
        head += take;
        s = s.slice(take.length);
      }
      tail += s;
      if (tail.length > 2 * tailCap) {
        dropped += tail.length - tailCap;
        tail = tail.slice(-tailCap);
      }
    },
    text() {
      if (tail.length > tailCap) {
        dropped += tail.length - tailCap;
        tail = tail.slice(-tailCap);
      }
      return dropped > 0 ? `${head}\n(... ${dropped} characters of output left out ...)\n${tail}` : head + tail;
    },
  };
}

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env: { ...process.env, FORCE_COLOR: '0' } });
    const captured = capture(outputCapChars);
    let output = '';
    child.stdout.on('data', captured.add);
    child.stderr.on('data', captured.add);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      output += `\n(killed after ${perFileTimeoutMs} ms)\n`;
      child.kill('SIGKILL');
    }, perFileTimeoutMs);
    child.on('error', (err) => (output += `\n(could not start: ${err.message})\n`));
    child.on('close', (code) => {
      clearTimeout(timer);
      const text = (captured.text() + output).replace(/\x1b\[[0-9;]*m/g, '');
      const { passed: ok, failed: bad, reason } = fileResult(text, code, { timedOut });
      passed += ok;
      failed += bad;
      const name = relative(root, file);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`${bad > 0 ? 'FAIL' : 'ok  '} ${name}  (${ok} passed${bad ? `, ${bad} failed` : ''}${reason ? `; ${reason}` : ''}, ${secs}s)`);
      if (bad > 0) failures.push(name);
      if (bad > 0 || process.env.EDGEHOOK_TEST_VERBOSE) {
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
