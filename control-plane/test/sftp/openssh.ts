import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** OpenSSH's own clients (Debian's openssh-client): required in CI, skipped with a clear line elsewhere. */
export function opensshAvailable(): boolean {
  if (['/usr/bin/sftp', '/usr/bin/scp', '/usr/bin/ssh-keygen'].every((p) => existsSync(p))) return true;
  if (process.env['CI'] === 'true') throw new Error('sftp/scp/ssh-keygen are missing: CI must install openssh-client for the SFTP tests');
  console.log('\n*** SFTP tests SKIPPED: OpenSSH clients not found (apt-get install openssh-client) ***\n');
  return false;
}

/** A client run; killed (and reported) if it is still going after `timeoutMs`, so a hang fails the test. */
export function run(cmd: string, args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Its own process group: sftp and scp run ssh as a child, which must die with them.
  const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const timer = setTimeout(() => {
    stderr += `\n[killed after ${opts.timeoutMs ?? 180_000} ms]`;
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  }, opts.timeoutMs ?? 180_000);
  child.once('close', () => clearTimeout(timer));
  // A client that exits without reading stdin (ssh-keygen) closes the pipe first: not an error.
  child.stdin.on('error', () => undefined);
  child.stdin.end(opts.input ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** Options every client call shares: no host key prompts, nothing from ~/.ssh, no agent. */
export function sshOptions(port: number, user: string, extra: string[] = []): string[] {
  return ['-P', String(port), '-o', `User=${user}`, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'IdentityAgent=none', '-o', 'LogLevel=ERROR', '-F', '/dev/null', ...extra];
}

/** A key pair made by ssh-keygen; returns the private key path (the .pub beside it). */
export async function makeKey(dir: string): Promise<string> {
  const path = join(dir, 'id_ed25519');
  const r = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sftp-test', '-f', path]);
  if (r.code !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  return path;
}

/** SSH_ASKPASS that prints the password, so OpenSSH can log in with one and no terminal. */
export async function askpass(dir: string, password: string): Promise<Record<string, string>> {
  const script = join(dir, 'askpass.sh');
  await writeFile(script, `#!/bin/sh\nprintf '%s\\n' '${password.replace(/'/g, "'\\''")}'\n`);
  await chmod(script, 0o700);
  return { SSH_ASKPASS: script, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' };
}
