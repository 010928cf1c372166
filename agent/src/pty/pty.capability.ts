import type { Logger } from '@edgehook/shared';
import type { Capability } from '../capability.js';
import type { PtyFactory } from './pty-factory.js';
import { PtySessions } from './pty-sessions.js';

/** PTY shells over the stream mechanism; the factory (node-pty) loads its native module on the first shell. */
export async function startPty(deps: { factory: PtyFactory; log: Logger }): Promise<Capability> {
  const ptys = new PtySessions({ factory: deps.factory, log: deps.log });
  return { name: 'pty', handlers: {}, streamKinds: { pty: ptys }, close: () => ptys.closeAll() };
}
