import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './harness.js';

/** Debian's nginx, run by the deploy tests from the configurations docs/ shows. */
export const NGINX = '/usr/sbin/nginx';

/** nginx, or why not: CI must have it (.ci/run installs it); elsewhere the test says it skipped. */
export function requireNginx(): boolean {
  if (existsSync(NGINX)) return true;
  if (process.env['CI']) throw new Error(`${NGINX} is missing: .ci/run installs the nginx package`);
  console.log(`skipped: ${NGINX} is not installed (apt-get install nginx)`);
  return false;
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const c = connect(port, '127.0.0.1', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });

export interface RunningNginx {
  stop(): Promise<void>;
}

/**
 * Runs nginx in the foreground with `site` (the documented server blocks, hosts and ports already
 * swapped) inside a minimal http block whose temp paths, pid and error log live in `dir`.
 */
export async function startNginx(dir: string, site: string, port: number): Promise<RunningNginx> {
  const kinds = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'];
  for (const k of kinds) await mkdir(join(dir, k), { recursive: true });
  const temp = kinds.map((k) => `  ${k}_temp_path ${join(dir, k)};`).join('\n');
  const conf = `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;\npid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')} warn;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n${temp}\n${site}\n}\n`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  nginx.stderr?.on('data', (d) => (out += d));
  await waitFor(`nginx listening (${out})`, async () => (nginx.exitCode !== null ? Promise.reject(new Error(`nginx exited: ${out} ${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`)) : listening(port)), 15_000);
  return {
    async stop() {
      if (nginx.exitCode !== null) return;
      const gone = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await gone;
    },
  };
}
