import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, killAllAgents, startTestControlPlane, waitFor } from '../helpers/harness.js';
import { finished, jobAgent, marks, statuses } from './fixtures.js';

// The control plane stops while devices run a job and starts again on the same data dir and ports:
// the job resumes from the store, and each device's run, asked for again with the same request id
// once the old claims lapse, is answered by the agent from the run it already did (never a second).
test('a control-plane restart mid-job resumes the job; every device runs it once', async () => {
  const first = await startTestControlPlane({ overrides: { jobs: { leaseMs: 2000 } } });
  const { dataDir, port, mqttPort } = first;
  let api = await adminApi(first);
  const agents = [await jobAgent(first, api, 'rs-a', ['lab']), await jobAgent(first, api, 'rs-b', ['lab']), await jobAgent(first, api, 'rs-c', ['lab'])];
  try {
    // Two at a time: rs-a and rs-b run across the restart, rs-c starts only after it.
    const created = await api.request('POST', '/api/jobs', { operation: { kind: 'action', spec: { call: 'slowmark', params: ['r'] } }, select: { tags: ['lab'] }, rollout: { batch: 2 } });
    assert.is(created.status, 201, JSON.stringify(created.body));
    await waitFor('two devices running', async () => (await api.request('GET', `/api/jobs/${created.body.id}`)).body.counts.running === 2, 10_000, 50);
    await first.close();

    const second = await startTestControlPlane({ dataDir, args: ['--port', String(port), '--mqtt-port', String(mqttPort)], overrides: { jobs: { leaseMs: 2000 } } });
    try {
      api = await adminApi(second);
      const during = (await api.request('GET', `/api/jobs/${created.body.id}`)).body;
      assert.is(during.finishedAt, null, 'the job is still there, unfinished');
      const job = await finished(api, created.body.id, 45_000);
      assert.is(job.state, 'succeeded', JSON.stringify(job.devices));
      assert.equal(statuses(job), { 'rs-a': 'succeeded', 'rs-b': 'succeeded', 'rs-c': 'succeeded' });
      for (const agent of agents) assert.is(await marks(agent, 'r'), 1, `${agent.name} ran it once`);
    } finally {
      await killAllAgents();
      await second.close();
    }
  } finally {
    await killAllAgents();
    await cleanup(dataDir, ...agents.map((a) => a.stateDir));
  }
});

test.run();
