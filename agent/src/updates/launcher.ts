// The agent's launcher: what systemd (or a supervisor) starts, `<install>/launcher.mjs`. It
// decides which version runs before any agent code loads, so a new version that cannot even
// start is rolled back by code that is not its own. Node built-ins only.
import { realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InstallLayout, MAX_PROBATION_STARTS, RESTART_EXIT_CODE, type UpdateRecord } from './install-layout.js';

function note(message: string): void {
  process.stderr.write(`${JSON.stringify({ level: 'warn', app: 'agent-launcher', msg: message, time: new Date().toISOString() })}\n`);
}

async function rollBack(layout: InstallLayout, record: UpdateRecord, reason: string): Promise<void> {
  await layout.switchTo(record.from);
  await layout.writeRecord({ ...record, state: 'rolled-back', reason, at: Date.now() });
  note(`rolled back from ${record.to} to ${record.from}: ${reason}`);
}

async function main(): Promise<void> {
  // The unit's malloc tunables (install.sh) are for this process, and glibc read them before any
  // JS ran: the shells, processes and tools the agent starts get the system's defaults, not ours.
  delete process.env['GLIBC_TUNABLES'];
  const dir = process.env['EDGEHOOK_INSTALL_DIR'] || dirname(fileURLToPath(import.meta.url));
  const layout = new InstallLayout(dir);
  let record = await layout.readRecord();
  const onProbation = async (): Promise<boolean> => {
    record = await layout.readRecord();
    return record?.state === 'probation' && (await layout.currentVersion()) === record.to;
  };
  if (record && (await onProbation())) {
    const r = { ...record, starts: record.starts + 1 };
    if (r.starts > MAX_PROBATION_STARTS) await rollBack(layout, r, `${r.to} stopped ${r.starts - 1} times while starting`);
    else if (Date.now() >= r.deadline) await rollBack(layout, r, `${r.to} did not reach the control plane before its deadline`);
    else {
      await layout.writeRecord(r);
      // Alive but never online (cannot connect, wedged): the deadline rolls it back from here.
      setTimeout(() => {
        void (async () => {
          if (!(await onProbation()) || !record) return;
          await rollBack(layout, record, `${record.to} did not reach the control plane within its deadline`);
          process.exit(RESTART_EXIT_CODE);
        })();
      }, Math.max(0, r.deadline - Date.now())).unref();
    }
  }
  process.env['EDGEHOOK_INSTALL_DIR'] = dir;
  const entry = await realpath(join(dir, 'current/lib/edgehook-agent.mjs'));
  try {
    await import(pathToFileURL(entry).href);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (record && (await onProbation())) {
      await rollBack(layout, record, `${record.to} failed to load: ${message}`);
      process.exit(RESTART_EXIT_CODE);
    }
    throw err;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`edgehook-agent launcher: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
