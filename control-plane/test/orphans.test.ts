import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, enrolledAgent, freePort, killAllAgents, serveProcess, spawnAgent, startTestControlPlane, tempDir, waitFor, type TestControlPlane } from './helpers/harness.js';

const t = suite<{ cps: TestControlPlane[]; dirs: string[] }>('no orphans');
t.before((ctx) => {
  ctx.cps = [];
  ctx.dirs = [];
});
t.after(async (ctx) => {
  await killAllAgents();
  for (const cp of ctx.cps) await cp.close().catch(() => undefined);
  await cleanup(...ctx.dirs);
});

/** Running and not a zombie (an orphan reparented to a PID 1 that never reaps would look alive to kill(pid, 0)). */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** Live processes whose command line mentions `needle`. */
async function processesWith(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle) && (await alive(Number(name)))) out.push(Number(name));
  }
  return out;
}

t('a process started through exec outlives an agent kill -9; the restarted agent reports and stops it', async (ctx) => {
  const cp = await startTestControlPlane();
  ctx.cps.push(cp);
  ctx.dirs.push(cp.dataDir);
  const api = await adminApi(cp);
  const agent = await enrolledAgent(cp, api, { hostname: 'strays' });
  ctx.dirs.push(agent.stateDir);
  const marker = `edgehook-stray-${Date.now()}`;
  // A leader and a background child in its group, both long-running.
  const res = await api.request('POST', `/api/devices/${agent.deviceId}/processes`, { cmd: ['sh', '-c', `sleep 600 & exec sleep 601 # ${marker}`] });
  assert.is(res.status, 201, JSON.stringify(res.body));
  const leader: number = res.body.proc_id;
  await waitFor('both running', async () => (await processesWith('600')).length > 0 && (await alive(leader)));
  agent.child.kill('SIGKILL');
  await agent.exited;
  assert.ok(await alive(leader), 'the exec process survived the agent kill -9 (what the ledger is for)');
  const restarted = spawnAgent({ stateDir: agent.stateDir, hostname: 'strays' });
  await restarted.waitForOutput(/stray process from the previous agent run/, 20_000);
  assert.match(restarted.output(), new RegExp(`"pid":${leader}`));
  await waitFor('the stray group stopped', async () => !(await alive(leader)), 10_000);
  await waitFor('its background child too', async () => {
    try {
      process.kill(-leader, 0);
      return false;
    } catch {
      return true;
    }
  }, 10_000);
  await restarted.waitForOutput(/connected to the control plane/, 15_000);
  await restarted.stop();
});

t('one agent per state dir: a second refuses to start, --replace on stops the first', async (ctx) => {
  const cp = await startTestControlPlane();
  ctx.cps.push(cp);
  ctx.dirs.push(cp.dataDir);
  const api = await adminApi(cp);
  const first = await enrolledAgent(cp, api, { hostname: 'locked' });
  ctx.dirs.push(first.stateDir);
  const second = spawnAgent({ stateDir: first.stateDir });
  assert.is(await second.exited, 2);
  assert.match(second.output(), new RegExp(`another agent \\(pid ${first.child.pid}\\) is running with the state dir`));
  const replacement = spawnAgent({ stateDir: first.stateDir, extraArgs: ['--replace', 'on'] });
  await first.exited;
  await replacement.waitForOutput(/connected to the control plane/, 15_000);
  await replacement.stop();
});

t('kill -9 of the control plane takes its demo agent along; restarts never pile up demo agents', async (ctx) => {
  const dataDir = await tempDir('edgehook-cp-');
  ctx.dirs.push(dataDir);
  const port = await freePort();
  const args = ['--port', String(port), '--mqtt-port', String(await freePort()), '--data-dir', dataDir, '--demo', 'true'];
  const demoDir = join(dataDir, 'demo-agent');
  const pidOf = async (): Promise<number | undefined> => {
    const text = await readFile(join(demoDir, 'agent.pid'), 'utf8').catch(() => undefined);
    const pid = text === undefined ? undefined : Number(JSON.parse(text).pid);
    return pid !== undefined && (await alive(pid)) ? pid : undefined;
  };
  const seen = new Set<number>();
  for (let cycle = 0; cycle < 3; cycle++) {
    const cp = serveProcess(args);
    const pid = await waitFor('the demo agent running', async () => {
      const p = await pidOf();
      return p !== undefined && !seen.has(p) ? p : undefined;
    }, 30_000);
    seen.add(pid);
    await waitFor('the demo agent connected', async () => (await fetch(`http://127.0.0.1:${port}/api/health`).catch(() => undefined))?.ok);
    cp.child.kill('SIGKILL');
    await cp.exited;
    await waitFor(`demo agent ${pid} gone with its control plane`, async () => !(await alive(pid)), 15_000);
  }
  assert.equal(await processesWith(demoDir), [], 'no demo agent left after 3 kill -9 cycles');
  await rm(join(demoDir, 'agent.pid'), { force: true });
});

t.run();
