import { EdgehookError } from '@edgehook/shared';
import type { ContainerRuntime } from './container-runtime.js';

export interface SocketChoice {
  /** The socket to use, or null when none was given and none of the usual places exists. */
  socket: string | null;
  /** Every path looked at, in order (for the "no engine" message). */
  tried: string[];
}

/**
 * Which Docker-API socket to talk to: the flag, else the environment, else Docker's usual socket,
 * else a Podman service socket that exists (user's, then system's).
 */
export function resolveDockerSocket(input: {
  flag?: string | undefined;
  env: Record<string, string | undefined>;
  exists: (path: string) => boolean;
  uid?: number;
}): SocketChoice {
  const given = input.flag ?? input.env['EDGEHOOK_DOCKER_SOCKET'];
  if (given) return { socket: stripScheme(given), tried: [stripScheme(given)] };
  const candidates = ['/var/run/docker.sock'];
  const xdg = input.env['XDG_RUNTIME_DIR'];
  if (xdg) candidates.push(`${xdg}/podman/podman.sock`);
  candidates.push('/run/podman/podman.sock');
  if (input.uid !== undefined) candidates.push(`/run/user/${input.uid}/podman/podman.sock`);
  const unique = [...new Set(candidates)];
  return { socket: unique.find((p) => input.exists(p)) ?? null, tried: unique };
}

/** `unix:///path` (as DOCKER_HOST and podman print it) or a plain path. */
function stripScheme(value: string): string {
  return value.startsWith('unix://') ? value.slice('unix://'.length) : value;
}

export function engineUnavailableMessage(detail: string): string {
  return `${detail}: start Docker or \`podman system service\`, or start the agent with --docker-socket PATH (an edgehook-agent flag, on the device)`;
}

/**
 * The runtime when no engine socket was found: the agent keeps running and every container call
 * says why it cannot work, naming the paths tried.
 */
export function unavailableRuntime(tried: string[]): ContainerRuntime {
  const fail = (): never => {
    throw new EdgehookError('ENGINE_UNAVAILABLE', engineUnavailableMessage(`no container engine socket found (tried ${tried.join(', ')})`));
  };
  const failing = async (): Promise<never> => fail();
  // Iterables fail on first use, like the calls.
  const failingIter = (): AsyncIterable<never> => ({
    [Symbol.asyncIterator]: () => ({ next: failing }),
  });
  return {
    info: failing,
    list: failing,
    inspect: failing,
    create: failing,
    pull: failing,
    start: failing,
    stop: failing,
    restart: failing,
    kill: failing,
    remove: failing,
    logs: failingIter,
    attach: failing,
    stats: failingIter,
    events: failingIter,
  };
}
