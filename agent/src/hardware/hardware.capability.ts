import { encodeJson, KvmStreamKinds, topicFor, type HwEvent } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { Capability } from '../capability.js';
import { openHardware, type Hardware, type HardwareDeps } from './hardware.js';
import { hardwareHandlers } from './hardware.handlers.js';
import { msdStreamKinds } from './msd/msd.stream.js';
import { serialStreamKind } from './serial/serial.stream.js';
import { videoStreamKind } from './video/video.stream.js';

export interface HardwareCapability extends Capability {
  /** The board, for telemetry's I2C sensors. */
  readonly hardware: Hardware;
}

/** Hardware per the board profile; its state changes go out on hwState once a link is attached. */
export async function startHardware(deps: Omit<HardwareDeps, 'emit'>): Promise<HardwareCapability> {
  let link: { transport: Transport; deviceId: string } | undefined;
  const publish = (e: HwEvent): void => {
    link?.transport.publish(topicFor('hwState', { deviceId: link.deviceId }), encodeJson(e), { qos: 0 }).catch(() => undefined);
  };
  const hardware = await openHardware({ ...deps, emit: publish });
  return {
    name: 'hardware',
    hardware,
    handlers: hardwareHandlers(hardware),
    streamKinds: { serial: serialStreamKind(hardware.serial), [KvmStreamKinds.video]: videoStreamKind(hardware.streamer), ...msdStreamKinds(hardware.msd) },
    attach: (l) => {
      link = l;
    },
    onLinkState: (s) => {
      // Keys and buttons held for a client that is gone would stay pressed on the target: release them.
      if (s.state === 'disconnected') void hardware.hid.reset();
    },
    close: () => hardware.close(),
  };
}
