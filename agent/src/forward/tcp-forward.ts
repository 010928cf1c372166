import { connect, isIP, type Socket } from 'node:net';
import { EdgehookError, type Logger } from '@edgehook/shared';
import { nodeDnsPromises } from '@edgehook/shared/node-builtins';
import type { AgentStream, StreamKind } from '../streams/stream-host.js';
import { describeRules, isAllowed, normalizeAddress, type ForwardRule, type ResolveName } from './allow-list.js';

/** Below the relay's 10 s open deadline, so the operator hears why rather than a timeout. */
const CONNECT_TIMEOUT_MS = 8000;

export interface TcpForwardDeps {
  allow: readonly ForwardRule[];
  log: Logger;
  /** Name -> addresses (tests; node's resolver by default). */
  resolveName?: ResolveName;
  connectTimeoutMs?: number;
}

const systemResolve: ResolveName = async (name) => (await nodeDnsPromises().lookup(name, { all: true, verbatim: true })).map((a) => a.address);

/** The first resolved address of `host` the allow list covers, or why there is none. */
async function allowedAddress(deps: TcpForwardDeps, resolveName: ResolveName, host: string, port: number): Promise<string> {
  const candidates = isIP(host) ? [host] : await resolveName(host).catch((err: unknown) => {
    throw new EdgehookError('NOT_FOUND', `the device cannot resolve ${host}: ${err instanceof Error ? err.message : String(err)}`);
  });
  for (const address of candidates) if (await isAllowed(deps.allow, address, port, resolveName)) return normalizeAddress(address);
  const shown = isIP(host) ? host : `${host} (${candidates.join(', ') || 'no address'})`;
  throw new EdgehookError('FORBIDDEN', `this device does not forward to ${shown} port ${port}; its --forward-allow is ${describeRules(deps.allow)}`);
}

function connectTo(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new EdgehookError('DEVICE_TIMEOUT', `${address}:${port} did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new EdgehookError('DESTINATION_UNREACHABLE', `${address}:${port}: ${err.code ?? err.message}`));
    });
  });
}

/**
 * Bytes both ways between the stream and the socket, each under its own flow control: the
 * socket is paused while the stream has no credit; input is acked once the kernel took it.
 * The operator's FIN (close-input) half-closes the socket; the destination's FIN ends the stream
 * (the relay has no half-close toward the operator, so input after it is dropped).
 */
function pipe(socket: Socket, stream: AgentStream, onClosed: () => void): void {
  let ended = false;
  const finish = (ok: boolean, reason?: string): void => {
    if (ended) return;
    ended = true;
    stream.end(ok ? { status: 'fulfilled' } : { status: 'rejected', reason: reason ?? 'connection failed' });
  };
  socket.on('data', (data: Buffer) => {
    if (!stream.write(data)) socket.pause();
  });
  stream.onDrain(() => socket.resume());
  stream.onInput((data, done) => {
    if (socket.destroyed || !socket.writable) return done();
    socket.write(data, () => done());
  });
  stream.onCommand((cmd) => {
    if (cmd.type === 'close-input') socket.end();
    else if (cmd.type === 'cancel' || cmd.type === 'detach') {
      socket.destroy();
      finish(true);
    }
  });
  stream.onGone(() => socket.destroy());
  socket.on('end', () => {
    finish(true);
    socket.end();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => finish(false, `${err.code ?? 'ERROR'}: ${err.message}`));
  socket.on('close', () => {
    finish(true);
    onClosed();
  });
}

/** The `tcp-forward` stream kind; `closeAll` ends every open connection (agent shutdown). */
export function tcpForwardKind(deps: TcpForwardDeps): StreamKind<'tcp-forward'> & { closeAll(): void; readonly openCount: number } {
  const open = new Set<Socket>();
  const resolveName = deps.resolveName ?? systemResolve;
  return {
    async open(spec, stream) {
      const address = await allowedAddress(deps, resolveName, spec.host, spec.port);
      const socket = await connectTo(address, spec.port, deps.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
      if (stream.finished) {
        socket.destroy();
        throw new EdgehookError('BAD_REQUEST', 'the operator left before the connection opened');
      }
      open.add(socket);
      pipe(socket, stream, () => open.delete(socket));
      deps.log.debug('forward opened', { host: spec.host, address, port: spec.port });
      return { address, port: spec.port };
    },
    closeAll() {
      for (const s of open) s.destroy();
      open.clear();
    },
    get openCount() {
      return open.size;
    },
  };
}
