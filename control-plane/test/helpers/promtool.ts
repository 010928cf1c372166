import { spawn, spawnSync } from 'node:child_process';

/** Whether Debian's `promtool` (package prometheus) is installed; in CI (CI=true) it must be. */
export function havePromtool(): boolean {
  const found = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!found && process.env['CI'] === 'true') throw new Error('promtool is missing: apt-get install -y prometheus (.ci/run installs it)');
  if (!found) process.stderr.write('promtool not installed: the Prometheus lint checks are not run (apt-get install -y prometheus)\n');
  return found;
}

/** `promtool check metrics` over an exposition text: its exit code and every problem it printed. */
export function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.stdin.end(text);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}
