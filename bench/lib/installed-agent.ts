// Start an agent the way agent/install/install.sh leaves a device: enrolled by a separate
// `--enroll-only` process (token in a file, not argv), then run from its stored credentials with
// the systemd unit's node flags, a package through its launcher. A deployed agent never runs the
// enrollment's HTTP client, so measuring a process that enrolled itself counts code it never loads.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT, startProcess, type RunningProcess } from './proc.js';

export const INSTALL_SH = join(REPO_ROOT, 'agent/install/install.sh');

/** The node flags of install.sh's unit (`ExecStart=$NODE <flags> $RUN_APP_DIR/launcher.mjs`): declared there once. */
export function unitNodeArgs(installSh = INSTALL_SH): string[] {
  const m = /^ExecStart=\$NODE((?: +-[^ ]+)*) +\$RUN_APP_DIR\/launcher\.mjs$/m.exec(readFileSync(installSh, 'utf8'));
  if (!m) throw new Error(`${installSh}: no "ExecStart=$NODE [flags] $RUN_APP_DIR/launcher.mjs" line`);
  return (m[1] ?? '').split(' ').filter(Boolean);
}

/** The `Environment=NAME=VALUE` lines of install.sh's unit (its malloc tunables), as an env object. */
export function unitEnvironment(installSh = INSTALL_SH): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of readFileSync(installSh, 'utf8').matchAll(/^Environment=([A-Z_][A-Z0-9_]*)=(\S+)$/gm)) if (m[1] && m[2]) env[m[1]] = m[2];
  return env;
}

/** How the measured process gets its credentials: `installed` as above, `self` with `--enroll <token>` in the measured process (the old bench). */
export type EnrollMode = 'installed' | 'self';

export interface AgentLaunch {
  /** agent/dist/main.js or a package's bin/edgehook-agent (run through the package's lib/launcher.mjs when installed). */
  main: string;
  nodeArgs: string[];
  enroll: EnrollMode;
  env: Record<string, string>;
}

/** Spawns the agent enrolled with `token` in `stateDir`; resolves once the measured process is started. */
export async function launchAgent(launch: AgentLaunch, serverUrl: string, token: string, stateDir: string): Promise<{ agent: RunningProcess; cleanup: () => Promise<void> }> {
  const common = { EDGEHOOK_STATE_DIR: stateDir, EDGEHOOK_PROFILE: 'simulated', EDGEHOOK_HOSTNAME: 'bench-idle-agent', EDGEHOOK_LOG_FORMAT: 'json', EDGEHOOK_LOG_LEVEL: 'warn', ...launch.env };
  if (launch.enroll === 'self') {
    const agent = startProcess('agent', [...launch.nodeArgs, launch.main, '--server', serverUrl, '--enroll', token], common);
    return { agent, cleanup: async () => {} };
  }
  const work = await mkdtemp(join(tmpdir(), 'edgehook-bench-install-'));
  const tokenFile = join(work, 'token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  // install.sh runs the enrollment with plain `$NODE` (no unit flags) and the package's bin.
  const enroller = startProcess('agent-enroll', [launch.main, '--enroll-only', '--server', serverUrl, '--enroll-token-file', tokenFile], common);
  const timer = setTimeout(() => void enroller.stop(1000), 60_000);
  const done = await new Promise<number | null>((resolve) => (enroller.child.exitCode !== null ? resolve(enroller.child.exitCode) : enroller.child.once('exit', (code) => resolve(code))));
  clearTimeout(timer);
  if (done !== 0) throw new Error(`--enroll-only exited with ${done}:\n${enroller.output.tail.join('\n')}`);
  const pkg = dirname(dirname(launch.main));
  const launcher = join(pkg, 'lib/launcher.mjs');
  let args = [...launch.nodeArgs, launch.main];
  const env: Record<string, string> = { ...common };
  if (existsSync(launcher)) {
    // The versioned layout install.sh makes: <install>/current -> versions/<v>; the unit starts the launcher.
    await symlink(pkg, join(work, 'current'));
    env['EDGEHOOK_INSTALL_DIR'] = work;
    args = [...launch.nodeArgs, launcher];
  }
  const agent = startProcess('agent', args, env);
  return { agent, cleanup: () => rm(work, { recursive: true, force: true }) };
}
