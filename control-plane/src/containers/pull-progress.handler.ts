import { decodeJson, filterFor, matchTopic, PullProgress, type Clock, type Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { FleetEvents } from '../events/fleet-events.js';

/**
 * Image pull progress from devices (topic containerPull) becomes the `container.pull` fleet event.
 * Every replica receives the device topics, so each hands it to its own /api/events sockets only
 * (emitLocal: announcing it on the replicas' bus would deliver it twice).
 */
export async function startPullProgress(deps: { transport: Transport; events: FleetEvents; clock: Clock; log: Logger }): Promise<void> {
  await deps.transport.subscribe(filterFor('containerPull'), (topic, payload) => {
    const deviceId = matchTopic(topic)?.params['deviceId'];
    if (!deviceId) return;
    const decoded = decodeJson(PullProgress, payload);
    if (!decoded.ok) {
      deps.log.warn('malformed pull progress', { deviceId, error: decoded.error });
      return;
    }
    deps.events.emitLocal({ type: 'container.pull', deviceId, ts: deps.clock.now(), pull: decoded.value });
  });
}
