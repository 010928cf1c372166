import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEnrollmentToken, spawnAgent, tempDir, waitFor, type AgentProcess, type Api } from '../helpers/harness.js';

/**
 * Actions the job agents declare. `mark` appends a line to `marks-<param>` in the agent's state dir,
 * so a test counts how often a job really ran on a device.
 */
export function jobActions(stateDir: string) {
  const marks = (p: string) => `echo run >> ${join(stateDir, 'marks-')}${p}`;
  return {
    actions: [
      { name: 'mark', command: ['sh', '-c', `${marks('{0}')}; echo marked {0}`], args: 'ignore', params: { min: 1, max: 1, pattern: '[a-z0-9]{1,16}' } },
      { name: 'slowmark', command: ['sh', '-c', `sleep 4; ${marks('{0}')}; echo marked {0}`], args: 'ignore', params: { min: 1, max: 1, pattern: '[a-z0-9]{1,16}' } },
      { name: 'hold', command: ['sleep', '3'], args: 'ignore' },
      { name: 'fail', command: ['sh', '-c', 'echo oops >&2; exit 3'], args: 'ignore' },
    ],
  };
}

export type JobAgent = AgentProcess & { deviceId: string; name: string };

/** A real agent with the job actions, enrolled, named, tagged and online. */
export async function jobAgent(cp: { url: string }, api: Api, name: string, tags: string[]): Promise<JobAgent> {
  const stateDir = await tempDir('edgehook-job-agent-');
  await writeFile(join(stateDir, 'actions.json'), JSON.stringify(jobActions(stateDir)));
  const agent = spawnAgent({ server: cp.url, token: await createEnrollmentToken(api), stateDir, hostname: name, extraArgs: ['--actions', join(stateDir, 'actions.json'), '--pty', 'simulated', '--container-engine', 'simulated'] });
  const deviceId = await waitFor('agent enrollment', async () => /"deviceId":"([^"]+)"/.exec(agent.output())?.[1], 15_000);
  await waitFor('device online', async () => (await api.request('GET', `/api/devices/${deviceId}`)).body?.online === true, 15_000);
  const res = await api.request('PATCH', `/api/devices/${deviceId}`, { name, tags });
  if (res.status !== 200) throw new Error(`tagging failed: ${res.status} ${JSON.stringify(res.body)}`);
  return Object.assign(agent, { deviceId, name });
}

/** The same device started again from its state dir (saved credentials), as after a reboot. */
export async function restartAgent(cp: { url: string }, api: Api, agent: JobAgent): Promise<JobAgent> {
  const again = spawnAgent({ server: cp.url, stateDir: agent.stateDir, hostname: agent.name, extraArgs: ['--actions', join(agent.stateDir, 'actions.json'), '--pty', 'simulated', '--container-engine', 'simulated'] });
  await waitFor('device back online', async () => (await api.request('GET', `/api/devices/${agent.deviceId}`)).body?.online === true, 15_000);
  return Object.assign(again, { deviceId: agent.deviceId, name: agent.name });
}

/** How many times `mark`/`slowmark` with this param ran on the agent. */
export async function marks(agent: { stateDir: string }, param: string): Promise<number> {
  try {
    return (await readFile(join(agent.stateDir, `marks-${param}`), 'utf8')).split('\n').filter((l) => l === 'run').length;
  } catch {
    return 0;
  }
}

export async function finished(api: Api, jobId: string, timeoutMs = 30_000): Promise<any> {
  return waitFor(`job ${jobId} to finish`, async () => {
    const res = await api.request('GET', `/api/jobs/${jobId}`);
    return res.body?.finishedAt ? res.body : undefined;
  }, timeoutMs, 100);
}

export const statuses = (job: any): Record<string, string> => Object.fromEntries(job.devices.map((d: any) => [d.name, d.status]));
