import { homedir } from 'node:os';
import { trustedFetch } from '@edgehook/shared/transport';
import { commandContext, type CliDeps, type CliIo, type Command } from './context.js';
import { CliError, UsageError } from './errors.js';
import { devicesCommand } from './commands/devices.command.js';
import { enrollTokenCommand } from './commands/enroll-token.command.js';
import { loginCommand } from './commands/login.command.js';
import { logoutCommand } from './commands/logout.command.js';
import { pingCommand } from './commands/ping.command.js';
import { whoamiCommand } from './commands/whoami.command.js';
import { totpCommand } from './commands/totp.command.js';
import { telemetryCommand } from './commands/telemetry.command.js';
import { topCommand } from './commands/top.command.js';
import { watchCommand } from './commands/watch.command.js';
import { gpioCommand } from './commands/gpio.command.js';
import { powerCommand } from './commands/power.command.js';
import { typeCommand } from './commands/type.command.js';
import { serialCommand } from './commands/serial.command.js';
import { execCommand } from './commands/exec.command.js';
import { shellCommand } from './commands/shell.command.js';
import { psCommand } from './commands/ps.command.js';
import { killCommand } from './commands/kill.command.js';
import { containersCommand } from './commands/containers.command.js';
import { containerCommand } from './commands/container.command.js';
import { cpCommand } from './commands/cp.command.js';
import { adminCommand } from './commands/admin.command.js';
import { auditCommand } from './commands/audit.command.js';
import { serverCommand } from './commands/server.command.js';
import { sshKeyCommand } from './commands/ssh-key.command.js';
import { agentCommand } from './commands/agent.command.js';
import { vpnCommand } from './commands/vpn.command.js';
import { configCommand } from './commands/config.command.js';
import { forwardCommand } from './commands/forward.command.js';
import { jobCommand } from './commands/job.command.js';

export type { CliIo, CliDeps } from './context.js';

const COMMANDS: readonly Command[] = [loginCommand, logoutCommand, whoamiCommand, totpCommand, devicesCommand, pingCommand, enrollTokenCommand, execCommand, shellCommand, psCommand, killCommand, gpioCommand, powerCommand, typeCommand, serialCommand, telemetryCommand, topCommand, watchCommand, containersCommand, containerCommand, cpCommand, adminCommand, auditCommand, serverCommand, sshKeyCommand, agentCommand, vpnCommand, configCommand, forwardCommand, jobCommand];


export function clientHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 'serve'.length) + 2;
  return [
    'Usage: edgehook <command> [options]',
    '',
    'Commands:',
    `  ${'serve'.padEnd(width)} run the control plane`,
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    `  ${'help'.padEnd(width)} show this help (--version: the version)`,
    '',
    'Run edgehook <command> --help for its options (edgehook serve --help: the server\'s). Commands other than login and serve use the',
    'stored login; --server URL or EDGEHOOK_SERVER picks the server.',
  ].join('\n');
}

/** The real process: global fetch, the system clock, the user's home directory. */
function processDeps(io: CliIo): CliDeps {
  return {
    io,
    fetch: globalThis.fetch,
    tlsFetch: (trust) => trustedFetch(trust),
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    homedir,
  };
}

/** Runs one client command with the given dependencies; returns the exit code, never throws. */
export async function runClient(command: string, argv: string[], deps: CliDeps): Promise<number> {
  const { io } = deps;
  if (command === 'help' || command === '--help' || command === '-h') {
    io.stdout(clientHelp() + '\n');
    return 0;
  }
  const found = COMMANDS.find((c) => c.name === command);
  if (!found) {
    io.stderr(`edgehook: unknown command ${JSON.stringify(command)}\n\n${clientHelp()}\n`);
    return 2;
  }
  try {
    return await found.run(argv, commandContext(deps));
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`edgehook ${command}: ${err.message}\n\n${err.usage}\n`);
      return err.exitCode;
    }
    if (err instanceof CliError) {
      io.stderr(`edgehook: ${err.message}\n`);
      return err.exitCode;
    }
    // A bug, not a user error: one line, with the stack only on request.
    const detail = io.env['EDGEHOOK_DEBUG'] && err instanceof Error ? `\n${err.stack ?? ''}` : '';
    io.stderr(`edgehook: internal error: ${err instanceof Error ? err.message : String(err)}${detail}\n`);
    return 1;
  }
}

/** Client commands (login, devices, ping, ...). Returns the exit code. */
export async function runClientCommand(command: string, argv: string[], io: CliIo): Promise<number> {
  return runClient(command, argv, processDeps(io));
}
