#!/usr/bin/env node
// A small Quix WSI backend (seed 003) for Edgehook's /wsi endpoint: copy it and adapt it.
//
//   EDGEHOOK_WSI_PASSWORD=... node backend.mjs --server ws://127.0.0.1:8080/wsi --username quix1 [--state ./wsi-token.json] [--vpn ./wg0.conf]
//
// The first start authenticates with the username and password and saves the token (mode 0600);
// later starts authenticate with the token. It answers execute, view_running, proc_signal and
// telemetry, and asks for its WireGuard configuration with get_vpn_conf when --vpn is given.
// Every event is one JSON line on stdout; the token and the password are never printed.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, statfsSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: opts } = parseArgs({
  options: { server: { type: 'string' }, username: { type: 'string' }, state: { type: 'string', default: './wsi-token.json' }, vpn: { type: 'string' } },
});
if (!opts.server) {
  console.error('usage: EDGEHOOK_WSI_PASSWORD=... backend.mjs --server ws://host:port/wsi --username NAME [--state FILE] [--vpn FILE]');
  process.exit(2);
}
const say = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));

function loadToken() {
  try {
    return JSON.parse(readFileSync(opts.state, 'utf8')).token;
  } catch {
    return undefined;
  }
}
const saveToken = (token) => writeFileSync(opts.state, JSON.stringify({ token }), { mode: 0o600 });

// Processes this backend started: the only ones proc_signal may touch (the seed's note).
const children = new Map();

function execute({ cmd }) {
  if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((a) => typeof a === 'string')) return { result: 'failure', reason: 'cmd is a non-empty array of strings' };
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
    child.once('error', (err) => resolve({ result: 'failure', reason: err.message }));
    child.once('spawn', () => {
      children.set(child.pid, { child, reqc: cmd.join(' '), title: cmd[0] });
      child.once('exit', () => children.delete(child.pid));
      resolve({ result: 'success', proc_id: child.pid });
    });
  });
}

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

const viewRunning = () => [...children.entries()].map(([pid, c]) => ({ title: c.title, pid, cpu_util: 0, mem_util: rssMb(pid), reqc: c.reqc, port_util: [] }));

function procSignal({ pid, mode }) {
  const c = children.get(pid);
  if (!c) return { result: 'failure', reason: 'not a process this backend started' };
  if (!['SIGTERM', 'SIGKILL', 'SIGHUP'].includes(mode)) return { result: 'failure', reason: 'mode is SIGTERM, SIGKILL or SIGHUP' };
  c.child.kill(mode);
  return { result: 'success' };
}

const coreTimes = () => cpus().map((c) => ({ idle: c.times.idle, total: Object.values(c.times).reduce((a, b) => a + b, 0) }));

async function telemetry({ stat_types: want = ['ttl_cpu_usage', 'ttl_mem_usage', 'disk_util', 'vpn_status'] }) {
  const tele = {};
  if (want.includes('ttl_cpu_usage')) {
    const a = coreTimes();
    await new Promise((r) => setTimeout(r, 100));
    tele.ttl_cpu_usage = coreTimes().map((b, i) => {
      const dt = b.total - a[i].total;
      return dt > 0 ? Math.round((1 - (b.idle - a[i].idle) / dt) * 100) / 100 : 0;
    });
  }
  if (want.includes('ttl_mem_usage')) {
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
    const cache = kb('Buffers') + kb('Cached');
    const free = kb('MemFree');
    tele.ttl_mem_usage = [Math.round((kb('MemTotal') - free - cache) / 1024), Math.round(cache / 1024), Math.round(free / 1024)];
  }
  if (want.includes('disk_util')) {
    const s = statfsSync('/');
    tele.disk_util = { '/': [(s.blocks - s.bfree) * s.bsize, s.bavail * s.bsize] };
  }
  if (want.includes('vpn_status')) tele.vpn_status = null;
  return { tele_data: tele };
}

const verbs = { execute, view_running: viewRunning, proc_signal: procSignal, telemetry };

let rid = 1;
let backoffMs = 500;
function connect() {
  const ws = new WebSocket(opts.server);
  const waiting = new Map();
  const ask = (req, msg, auth = null) =>
    new Promise((resolve) => {
      const id = rid++;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ auth, req, rid: id, msg }));
    });
  ws.on('open', async () => {
    backoffMs = 500;
    let token = loadToken();
    let answer = token ? await ask('authenticate', {}, token) : undefined;
    if (!answer?.success) {
      if (answer) say('token_refused', { reason: answer.reason });
      const password = process.env.EDGEHOOK_WSI_PASSWORD;
      if (!opts.username || !password) {
        say('fatal', { reason: 'no valid token: give --username and EDGEHOOK_WSI_PASSWORD' });
        process.exit(1);
      }
      answer = await ask('authenticate', { username: opts.username, password });
      if (!answer.success) {
        say('fatal', { reason: answer.reason, message: answer.message });
        process.exit(1);
      }
      token = answer.token;
      saveToken(token);
    }
    say('authenticated', { validity: answer.validity });
    if (opts.vpn) {
      const conf = await ask('get_vpn_conf', { conf_type: 'wireguard', tun_mode: 'udp' }, token);
      if (conf.result === 'success') writeFileSync(opts.vpn, conf.conf_data, { mode: 0o600 });
      say('vpn_conf', conf.result === 'success' ? { result: 'success', file: opts.vpn } : { result: conf.result, reason: conf.reason, message: conf.message });
    }
  });
  ws.on('message', async (data) => {
    let frame;
    try {
      frame = JSON.parse(String(data));
    } catch {
      return;
    }
    if (frame.req === undefined) {
      // A reply to one of our requests.
      waiting.get(frame.rid)?.(frame.msg);
      waiting.delete(frame.rid);
      return;
    }
    const verb = verbs[frame.req];
    const msg = verb ? await verb(frame.msg ?? {}) : { result: 'failure', reason: `unknown request ${frame.req}` };
    say('request', { req: frame.req });
    ws.send(JSON.stringify({ rid: frame.rid, msg }));
  });
  ws.on('error', (err) => say('socket_error', { message: err.message }));
  ws.on('close', (code, reason) => {
    say('closed', { code, reason: String(reason) });
    // 4009: another socket took our token over; 4004/4001/4003: the device or its rights are gone.
    if ([4009, 4004, 4001, 4003].includes(code)) process.exit(code === 4009 ? 0 : 1);
    setTimeout(connect, backoffMs);
    backoffMs = Math.min(backoffMs * 2, 30_000);
  });
}

process.on('SIGTERM', () => {
  for (const c of children.values()) c.child.kill('SIGTERM');
  process.exit(0);
});
connect();
