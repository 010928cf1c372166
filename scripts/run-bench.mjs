// Runs the benchmarks in bench/*.bench.ts, each in its own Node process (node --import tsx), one
// after another (they measure the machine, so never in parallel), and ends with a summary.
//
//   npm run bench                                  every bench, default sizes
//   npm run bench -- fleet                         only benches whose name matches /fleet/
//   npm run bench -- fleet --agents 500 --ping-seconds 10
//   EDGEHOOK_BENCH_AGENTS=500 npm run bench -- --quick
//   npm run bench -- hardware --hw-clicks 300     ATX click -> LED and GPIO pulse accuracy
//   npm run bench -- telemetry --telemetry-seconds 60   ingest, 24 h series, fleet latest, agent CPU
//   npm run bench -- containers --power-cycles 20  start/stop vs the engine, console MB/s, stats CPU (needs podman)
//   npm run bench -- kvm-video --video-seconds 20  KVM screen: fps, added latency, CPU per viewer
//   npm run bench -- fleet-page                    console fleet page in Chromium: first render, live presence
//   npm run bench -- perfkit --perfkit-requests 200  session images: latest (device) vs by seq (cache)
//   npm run bench -- forward                       edgehook forward and the HTTP proxy vs the same server direct
//   npm run bench -- rpc-floor                     a round trip between two processes with no Edgehook code (tcp, aedes+mqtt.js, http)
//
// Flags become EDGEHOOK_BENCH_* environment variables (--agents 500 -> EDGEHOOK_BENCH_AGENTS=500);
// --quick means agents=500, ping-seconds=10, restart-timeout-s=120 unless given. Every bench
// prints a table and writes JSON under bench-results/.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const benchDir = join(root, 'bench');

function usage() {
  return [
    'Usage: node scripts/run-bench.mjs [name-filter] [--agents N] [--ping-seconds S] [--ping-rate R]',
    '         [--restart-timeout-s S] [--restarts K] [--connect-batch B] [--enroll-concurrency C]',
    '         [--idle-agent-wait-s S] [--idle-agent-settle-s S] [--skip restart,idle-agent] [--trace 1]',
    '         [--quick] [--no-typecheck] [--timeout-s S]',
    '         shell bench: [--keystrokes N] [--flood-seconds S]',
    '         hardware bench: [--hw-clicks N] [--hw-pulses N]',
    '         telemetry bench: [--telemetry-devices N] [--telemetry-load-devices N] [--telemetry-samples N]',
    '         containers bench: [--power-cycles N] [--console-seconds S] [--stats-containers N] [--stats-seconds S]',
    '                          [--telemetry-seconds S] [--telemetry-agent-seconds S]',
    '         kvm-video bench: [--video-seconds S]',
    '         telemetry bench: [--telemetry-store sqlite|postgres] [--telemetry-skip history,latest,agent]',
    '         forward bench: [--forward-seconds S] [--forward-blocks N] [--forward-mb MB]',
    '         fleet-page bench: [--page-devices N] [--page-loads N] [--page-events-per-s R] [--page-event-seconds S]',
    '',
    'Flags set EDGEHOOK_BENCH_<NAME> (upper case, dashes to underscores); the environment works too.',
  ].join('\n');
}

const env = { ...process.env, FORCE_COLOR: '0' };
let filter = null;
let typecheck = true;
let quick = false;
let timeoutS = Number(process.env.EDGEHOOK_BENCH_TIMEOUT_S ?? 1800);
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--help' || arg === '-h') {
    console.log(usage());
    process.exit(0);
  } else if (arg === '--no-typecheck') typecheck = false;
  else if (arg === '--quick') quick = true;
  else if (arg.startsWith('--')) {
    const [name, inline] = arg.slice(2).split('=', 2);
    const value = inline ?? args[++i];
    if (value === undefined) {
      console.error(`${arg} needs a value\n\n${usage()}`);
      process.exit(2);
    }
    if (name === 'timeout-s') timeoutS = Number(value);
    else env[`EDGEHOOK_BENCH_${name.toUpperCase().replace(/-/g, '_')}`] = value;
  } else if (filter === null) filter = new RegExp(arg);
  else {
    console.error(`unexpected argument ${arg}\n\n${usage()}`);
    process.exit(2);
  }
}
if (quick) {
  env.EDGEHOOK_BENCH_AGENTS ??= '500';
  env.EDGEHOOK_BENCH_PING_SECONDS ??= '10';
  env.EDGEHOOK_BENCH_RESTART_TIMEOUT_S ??= '120';
}

const all = readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts'));
// A filter that is exactly a bench's name runs that one only (`fleet` is not also `fleet-page`).
const exact = filter && all.find((f) => f === `${filter.source}.bench.ts`);
const benches = (exact ? [exact] : all.filter((f) => !filter || filter.test(f))).sort();
if (benches.length === 0) {
  console.error(`no benchmarks in bench/${filter ? ` matching ${filter}` : ''}`);
  process.exit(1);
}

// tsx does not type-check and the root `tsc -b` does not cover bench/, so check it here. Only a
// warning: bench/ is one project, and a half-written bench must not stop the others from running.
if (typecheck) {
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(benchDir, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) console.error('warning: bench/ does not type-check (errors above); running anyway\n');
}

const sizes = Object.entries(env)
  .filter(([k]) => k.startsWith('EDGEHOOK_BENCH_'))
  .map(([k, v]) => `${k}=${v}`);
console.log(`benchmarks: ${benches.join(', ')}${sizes.length ? `\nsettings: ${sizes.join(' ')}` : ''}`);

function run(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', join(benchDir, file)], { cwd: root, env, stdio: 'inherit' });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\n${file}: no result after ${timeoutS} s; stopping it`);
      child.kill('SIGINT'); // the bench cleans up its own processes on SIGINT
      setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
    }, timeoutS * 1000);
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve({ file, ok: code === 0 && !timedOut, code: code ?? signal, secs: ((Date.now() - started) / 1000).toFixed(0) });
    });
  });
}

const outcomes = [];
for (const file of benches) outcomes.push(await run(file));
console.log('\nbenchmark runs:');
for (const o of outcomes) console.log(`  ${o.ok ? 'ok    ' : 'FAILED'} ${o.file} (${o.secs} s${o.ok ? '' : `, exit ${o.code}`})`);
console.log('tables above; JSON in bench-results/');
process.exit(outcomes.every((o) => o.ok) ? 0 : 1);
