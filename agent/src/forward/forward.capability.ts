import type { Logger } from '@edgehook/shared';
import type { Capability } from '../capability.js';
import type { ForwardRule } from './allow-list.js';
import { tcpForwardKind } from './tcp-forward.js';

/** Port forwarding (issue 19): TCP to the destinations `--forward-allow` names; no RPCs. */
export async function startForward(deps: { allow: readonly ForwardRule[]; log: Logger }): Promise<Capability> {
  const kind = tcpForwardKind(deps);
  return { name: 'forward', handlers: {}, streamKinds: { 'tcp-forward': kind }, close: () => kind.closeAll() };
}
