import type { TlsTrust } from '@edgehook/shared/transport';
import { credentialsStore, configDir, type CredentialsStore } from './credentials.store.js';

/** The process's streams and environment, passed in so tests can run commands in memory. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Byte-exact output for remote programs (exec, shell); falls back to UTF-8 text when absent. */
  stdoutBytes?: (b: Uint8Array) => void;
  stderrBytes?: (b: Uint8Array) => void;
  /** stdout is a terminal: progress updates one line in place instead of printing a line per change. */
  stdoutIsTTY?: boolean;
}

/** Everything a command touches outside itself. */
export interface CliDeps {
  io: CliIo;
  fetch: typeof globalThis.fetch;
  /** A fetch for https:// that enforces a trust (CA PEM or pinned fingerprint); absent in in-memory tests. */
  tlsFetch?: (trust: TlsTrust) => typeof globalThis.fetch;
  /** Wall-clock epoch milliseconds (token expiry, "12s ago"). */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  homedir: () => string;
}

export interface CommandContext extends CliDeps {
  store: CredentialsStore;
}

export function commandContext(deps: CliDeps): CommandContext {
  return { ...deps, store: credentialsStore(configDir(deps.io.env, deps.homedir), deps.now) };
}

/** One CLI command: `run` returns the exit code or throws a CliError. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], ctx: CommandContext): Promise<number>;
}
