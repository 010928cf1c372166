/**
 * The terminals the shell bench types into, each a way from the bench to a shell's pty: the relay
 * (the operator websocket of a real control plane), the bare floors (bench/lib/bare-relay-peer.ts)
 * and ssh to a private sshd; and the keystroke echo measured on any of them.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { z } from 'zod';
import { freePort, sleep } from './proc.js';

/** The relay's text frames the bench reacts to (the rest pass through the loose object). */
const ControlFrame = z.looseObject({ type: z.string(), message: z.string().optional() });
const FrontPorts = { link: z.object({ linkPort: z.number().int().positive() }), ws: z.object({ wsPort: z.number().int().positive() }) };

/** The next IPC message of a forked peer; a peer that exits first fails the bench instead of hanging it. */
function nextMessage(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`bench peer exited with ${code} before it was ready`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m);
    });
  });
}

/** Something that takes keystrokes and hands back terminal output. */
export interface Terminal {
  send(data: Buffer): void;
  onData(listener: (data: Buffer) => void): void;
  close(): void;
}

export async function relayTerminal(base: string, token: string, deviceId: string): Promise<Terminal> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/devices/${deviceId}/shell`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const listeners: Array<(d: Buffer) => void> = [];
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) for (const l of listeners) l(data);
      else {
        const msg = ControlFrame.parse(JSON.parse(data.toString()));
        if (msg.type === 'opened') resolve();
        if (msg.type === 'error') reject(new Error(msg.message));
      }
    });
  });
  ws.send(JSON.stringify({ type: 'open', cols: 120, rows: 40, shell: '/bin/sh' }));
  await opened;
  return { send: (d) => ws.send(d, { binary: true }), onData: (l) => listeners.push(l), close: () => ws.close() };
}

/**
 * A floor under the relay: operator -> bare ws server -> `link` (raw TCP, or bare aedes and mqtt.js)
 * -> bare node-pty host, two processes of their own. Their pids go to `procs` (front, pty host).
 */
export async function bareRelayTerminal(link: 'tcp' | 'mqtt', procs: ChildProcess[]): Promise<Terminal> {
  const peer = new URL('./bare-relay-peer.ts', import.meta.url);
  const front = fork(peer, ['front', link], { execArgv: ['--import', 'tsx'] });
  procs.push(front);
  const { linkPort } = FrontPorts.link.parse(await nextMessage(front));
  procs.push(fork(peer, ['pty', link, String(linkPort)], { execArgv: ['--import', 'tsx'] }));
  const { wsPort } = FrontPorts.ws.parse(await nextMessage(front));
  const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/`, { perMessageDeflate: false });
  await once(ws, 'open');
  const listeners: Array<(d: Buffer) => void> = [];
  ws.on('message', (data: Buffer) => {
    for (const l of listeners) l(data);
  });
  return { send: (d) => ws.send(d, { binary: true }), onData: (l) => listeners.push(l), close: () => ws.close() };
}

/** A private sshd on a free port (its own host key, authorized key and pid file), if openssh-server is installed. */
export async function startSshd(dir: string): Promise<{ port: number; key: string; proc: ChildProcess } | string> {
  const sshd = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));
  if (!sshd) return 'sshd not installed (apt-get install -y openssh-server)';
  const key = join(dir, 'id_ed25519');
  const hostKey = join(dir, 'host_ed25519');
  for (const k of [key, hostKey]) if (spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]).status !== 0) return 'ssh-keygen failed';
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${key}.pub`, 'utf8'));
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  await writeFile(config, [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, `PidFile ${join(dir, 'sshd.pid')}`, 'PasswordAuthentication no', 'StrictModes no', 'UsePAM no', 'PermitRootLogin yes', 'LogLevel ERROR'].join('\n') + '\n');
  spawnSync('mkdir', ['-p', '/run/sshd']);
  const proc = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d) => (err += d));
  await sleep(500);
  if (proc.exitCode !== null) return `sshd exited: ${err.trim()}`;
  return { port, key, proc };
}

export async function sshTerminal(port: number, key: string): Promise<Terminal> {
  const user = process.env['USER'] ?? 'root';
  const child = spawn('ssh', ['-tt', '-i', key, '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `${user}@127.0.0.1`, '/bin/sh'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const listeners: Array<(d: Buffer) => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    for (const l of listeners) l(d);
  });
  return { send: (d) => child.stdin.write(d), onData: (l) => listeners.push(l), close: () => child.kill('SIGTERM') };
}

/** Types x, DEL, x, DEL... one at a time, waiting for each echo: the interactive round trip. */
export async function echoLatency(term: Terminal, n: number, warmup = 50): Promise<number[]> {
  let waiter: (() => void) | undefined;
  term.onData(() => waiter?.());
  // Settle: the prompt and anything else the shell prints first.
  term.send(Buffer.from('stty -ixon 2>/dev/null; echo ready\r'));
  await sleep(1000);
  const rtts: number[] = [];
  for (let i = 0; i < n + warmup; i++) {
    const key = Buffer.from(i % 2 === 0 ? 'x' : '\x7f');
    const echoed = new Promise<void>((resolve) => (waiter = resolve));
    const t0 = performance.now();
    term.send(key);
    await Promise.race([echoed, sleep(2000)]);
    waiter = undefined;
    if (i >= warmup) rtts.push(performance.now() - t0); // the first keys warm up the path
    await sleep(1); // let any trailing bytes of this echo arrive before the next key
  }
  return rtts;
}
