import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { createEnrollmentToken } from './enrollment.repository.js';

/**
 * `npm start` runs one simulated device beside the control plane, as a real agent process
 * that enrolls over HTTP and connects over MQTT like any Pi would.
 */
export async function startDemoAgent(deps: { db: Kysely<Database>; log: Logger; now: number }, opts: { serverUrl: string; dataDir: string; fingerprint?: string | undefined }): Promise<{ stop(): Promise<void> }> {
  const agentMain = fileURLToPath(import.meta.resolve('@edgehook/agent/main'));
  // A fresh single-use token each start: the agent ignores it when its saved credentials still work.
  const { token } = await createEnrollmentToken(deps.db, { expiresIn: 3600, maxUses: 1, tags: ['demo'], note: 'demo device' }, null, deps.now);
  // The token in the environment, not argv (ps); under TLS the demo device pins our certificate.
  const args = [agentMain, '--server', opts.serverUrl, ...(opts.fingerprint ? ['--server-fingerprint', opts.fingerprint] : []), '--state-dir', join(opts.dataDir, 'demo-agent'), '--profile', 'simulated', '--hostname', 'demo-device'];
  // The demo device declares pow-1 actions (among them `echo`, as the pow-1 example server).
  args.push('--actions', fileURLToPath(new URL('../demo/actions.json', import.meta.resolve('@edgehook/agent/main'))));
  // Its life is tied to ours: fd 3 is a pipe whose other end only this process holds, so the
  // kernel closes it when we die (kill -9 included) and the agent exits (--lifeline-fd). A restart
  // that finds the previous demo agent still running stops it first (--replace on, via agent.pid).
  args.push('--lifeline-fd', '3', '--replace', 'on');
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'pipe'], env: { ...process.env, EDGEHOOK_LOG_FORMAT: 'pretty', EDGEHOOK_ENROLL_TOKEN: token } });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') deps.log.warn('demo agent exited', { code, signal });
  });
  deps.log.info('started the simulated demo device', { pid: child.pid });
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
