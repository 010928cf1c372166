/**
 * SFTP benchmark: a real control plane (its own process, --sftp-port) and a real agent (simulated
 * engine; the files are real files in the server's data directory), the same file moved
 *   - by OpenSSH's sftp (put, then get) through the SFTP server,
 *   - by the HTTP file route (PUT, then GET .../files/content), streamed from and to disk,
 * alternating, in the same run; and a local disk copy of the file as the reference.
 *
 *   node --import tsx bench/sftp.bench.ts      (or: npm run bench -- sftp)
 *
 * Size: EDGEHOOK_BENCH_SFTP_MB (100); rounds: EDGEHOOK_BENCH_SFTP_ROUNDS (3).
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { ApiClient } from './lib/api.js';
import { CP_MAIN, freePort, startEnrolledAgent, startProcess, waitFor } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, revision, summarize, writeResults, type Row } from './lib/report.js';

const MB = envNumber('EDGEHOOK_BENCH_SFTP_MB', 100);
const ROUNDS = envNumber('EDGEHOOK_BENCH_SFTP_ROUNDS', 3);
const ADMIN_PASSWORD = 'bench-admin-password';
const log = (msg: string): void => console.log(`[sftp ${new Date().toISOString().slice(11, 19)}] ${msg}`);

function exec(cmd: string, args: string[], input = ''): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdin.end(input);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

function httpTransfer(method: 'PUT' | 'GET', url: string, token: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    void stat(file).catch(() => undefined).then((st) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (method === 'PUT' && st) headers['content-length'] = String(st.size);
      const req = request(url, { method, headers }, (res) => {
        if ((res.statusCode ?? 0) >= 300) return reject(new Error(`${method} ${res.statusCode}`));
        if (method === 'GET') pipeline(res, createWriteStream(file)).then(resolve, reject);
        else {
          res.resume();
          res.on('end', resolve);
        }
      });
      req.on('error', reject);
      if (method === 'PUT') pipeline(createReadStream(file), req).catch(reject);
      else req.end();
    });
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-bench-sftp-'));
  const [port, mqttPort, sftpPort] = [await freePort(), await freePort(), await freePort()];
  const cp = startProcess('control-plane', [CP_MAIN, 'serve', '--port', String(port), '--mqtt-port', String(mqttPort), '--sftp-port', String(sftpPort), '--data-dir', join(dir, 'cp'), '--log-level', 'warn', '--log-format', 'json'], { EDGEHOOK_ADMIN_PASSWORD: ADMIN_PASSWORD });
  const base = `http://127.0.0.1:${port}`;
  await waitFor('control plane', async () => ((await fetch(`${base}/api/health`).catch(() => undefined))?.ok ? true : undefined), 30_000);
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  const token = ((await login.json()) as { accessToken: string }).accessToken;
  const api = new ApiClient(base, token);
  const enrollApi = { base, call: (m: string, p: string) => api.call(m, p), enrollmentToken: async (maxUses: number) => ((await api.call('POST', '/api/enrollment-tokens', { maxUses })).body as { token: string }).token };
  const { agent, deviceId } = await startEnrolledAgent(enrollApi, { stateDir: join(dir, 'agent'), hostname: 'bench-sftp', args: ['--container-engine', 'simulated'] });
  try {
    await api.call('PUT', `/api/devices/${deviceId}/servers`, { servers: [{ name: 'bench', image: 'sim/echo' }] });
    const key = join(dir, 'id_ed25519');
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    await api.call('POST', '/api/users/me/ssh-keys', { publicKey: (await readFile(`${key}.pub`, 'utf8')).trim() });
    const src = join(dir, 'payload.bin');
    await writeFile(src, randomBytes(MB * 1024 * 1024));
    const ssh = ['-P', String(sftpPort), '-i', key, '-o', 'User=admin.bench@bench-sftp', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-F', '/dev/null'];
    const files = `${base}/api/devices/${deviceId}/servers/bench/files/content`;
    const t: Record<string, number[]> = { sftpPut: [], sftpGet: [], httpPut: [], httpGet: [], localCopy: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      log(`round ${round}/${ROUNDS}: ${MB} MB`);
      t.sftpPut?.push(await timed(() => exec('sftp', [...ssh, '-b', '-', '127.0.0.1'], `put ${src} /s.bin\n`)));
      t.sftpGet?.push(await timed(() => exec('sftp', [...ssh, '-b', '-', '127.0.0.1'], `get /s.bin ${join(dir, 's-back.bin')}\n`)));
      t.httpPut?.push(await timed(() => httpTransfer('PUT', `${files}?path=/h.bin`, token, src)));
      t.httpGet?.push(await timed(() => httpTransfer('GET', `${files}?path=/h.bin`, token, join(dir, 'h-back.bin'))));
      t.localCopy?.push(await timed(() => copyFile(src, join(dir, 'copy.bin'))));
    }
    const mbps = (s: number[] | undefined) => summarize((s ?? []).map((x) => MB / x));
    const rows: Row[] = Object.entries(t).map(([name, secs]) => {
      const m = mbps(secs);
      const lowest = Math.min(...secs.map((x) => MB / x));
      return { metric: `${name} MB/s (median of ${ROUNDS}; min..max)`, value: `${fmt(m.p50, 1)} (${fmt(lowest, 1)}..${fmt(m.max, 1)})` };
    });
    printTable(`SFTP vs HTTP file route, ${MB} MB file`, rows);
    const path = writeResults('sftp', { mb: MB, rounds: ROUNDS, seconds: t, machine: machine(), revision: revision() });
    log(`results: ${path}`);
  } finally {
    await agent.stop(5000);
    await cp.stop(5000);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
