import type { AtxConfig, Profile } from '@edgehook/firmware-profiles';
import type { Clock, HwEvent, Logger } from '@edgehook/shared';
import { AtxController } from './atx/atx.controller.js';
import { SimulatedPc } from './atx/simulated-pc.js';
import { GpioController } from './gpio/gpio.controller.js';
import { SimGpioDriver } from './gpio/sim-gpio.driver.js';
import { SysfsGpioDriver } from './gpio/sysfs-gpio.driver.js';
import { HidgSink, SimHidSink, type HidReportSink } from './hid/hid.sink.js';
import { Keyboard } from './hid/keyboard.js';
import type { I2cDriver } from './i2c/i2c.driver.js';
import { I2cBusDriver } from './i2c/i2c-bus.driver.js';
import { SimI2cDriver } from './i2c/sim-i2c.driver.js';
import type { LogRing } from './log/log-ring.js';
import { SerialService } from './serial/serial.service.js';
import type { SerialDriver } from './serial/serial.driver.js';
import { SerialportDriver } from './serial/serialport.driver.js';
import { SimSerialDriver } from './serial/sim-serial.driver.js';

export interface HardwareDeps {
  profile: Profile;
  clock: Clock;
  log: Logger;
  logRing: LogRing;
  hostname: string;
  agentVersion: string;
  /** State changes for the control plane (published on the hwState topic). */
  emit: (event: HwEvent) => void;
}

/** The board's parts, real or simulated per the profile's addresses (sim:// paths, chip 'sim'). */
export interface Hardware {
  deps: HardwareDeps;
  gpio: GpioController;
  atx: AtxController;
  keyboard: Keyboard;
  serial: SerialService;
  i2c: I2cDriver;
  /** Present on a simulated board: what the outside world sees, for tests. */
  sim: { gpio?: SimGpioDriver; pc?: SimulatedPc; hid?: SimHidSink };
  close(): Promise<void>;
}

const isSim = (path: string): boolean => path.startsWith('sim://');

export async function openHardware(deps: HardwareDeps): Promise<Hardware> {
  const { profile, clock, log } = deps;
  const simulatedBoard = profile.platform.type === 'simulated';
  const sim: Hardware['sim'] = {};

  const simGpio = simulatedBoard || profile.gpio.chip === 'sim' ? new SimGpioDriver() : undefined;
  const gpio = new GpioController({ profile, driver: simGpio ?? new SysfsGpioDriver({ chip: profile.gpio.chip }), clock, log: log.child({ part: 'gpio' }) });
  if (simGpio) {
    sim.gpio = simGpio;
    // The simulated PC is wired before the controller reads the LEDs, like a machine already plugged in.
    if (profile.atx) sim.pc = new SimulatedPc(simGpio, { ...profile, atx: profile.atx satisfies AtxConfig });
  }
  await gpio.start();
  const atx = new AtxController(gpio, profile.atx);

  let sink: HidReportSink | undefined;
  if (profile.hid) {
    if (isSim(profile.hid.keyboard)) sink = sim.hid = new SimHidSink();
    else sink = new HidgSink(profile.hid.keyboard);
  }
  const keyboard = new Keyboard(sink);

  const simSerial = new SimSerialDriver();
  let realSerial: SerialDriver | undefined;
  const serial = new SerialService(profile, (path) => (isSim(path) ? simSerial : (realSerial ??= new SerialportDriver())));
  const i2c: I2cDriver = simulatedBoard ? new SimI2cDriver(profile.i2c) : new I2cBusDriver();

  const ts = () => clock.now();
  gpio.onChange(() => deps.emit({ kind: 'gpio', ts: ts(), state: gpio.state() }));
  atx.onChange(() => deps.emit({ kind: 'atx', ts: ts(), state: atx.state() }));
  keyboard.onChange(() => deps.emit({ kind: 'hid', ts: ts(), state: keyboard.state() }));
  log.info('hardware ready', {
    profile: profile.id,
    gpio: simGpio ? 'simulated' : 'sysfs',
    channels: Object.keys(profile.gpio.channels).length,
    atx: profile.atx ? (sim.pc ? 'simulated pc' : 'gpio') : 'none',
    hid: sink?.kind ?? 'none',
    i2c: i2c.kind,
  });

  return {
    deps,
    gpio,
    atx,
    keyboard,
    serial,
    i2c,
    sim,
    async close() {
      await keyboard.releaseAll().catch(() => undefined);
      sim.pc?.close();
      await gpio.close().catch(() => undefined);
      await serial.close();
      await i2c.close();
      await sink?.close();
    },
  };
}
