import type { AtxConfig, Profile } from '@edgehook/firmware-profiles';
import type { Clock, HwEvent, Logger } from '@edgehook/shared';
import { AtxController } from './atx/atx.controller.js';
import { SimulatedPc } from './atx/simulated-pc.js';
import { GpioController } from './gpio/gpio.controller.js';
import { SimGpioDriver } from './gpio/sim-gpio.driver.js';
import { SysfsGpioDriver } from './gpio/sysfs-gpio.driver.js';
import { HidgSink, SimHidSink, type HidReportSink } from './hid/hid.sink.js';
import { Keyboard } from './hid/keyboard.js';
import { Hid } from './hid/hid.js';
import { Mouse } from './hid/mouse.js';
import { isAbsolute, join } from 'node:path';
import { ConfigfsGadget, SimMsdGadget, type MsdGadget } from './msd/msd-gadget.js';
import { MsdController } from './msd/msd.controller.js';
import { Streamer } from './video/streamer.js';
import { UstreamerSource } from './video/ustreamer.source.js';
import { TestPatternSource, type VideoSource } from './video/video-source.js';
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
  /** The agent's state dir: a relative msd storage dir lives under it. */
  stateDir?: string;
}

/** The board's parts, real or simulated per the profile's addresses (sim:// paths, chip 'sim'). */
export interface Hardware {
  deps: HardwareDeps;
  gpio: GpioController;
  atx: AtxController;
  keyboard: Keyboard;
  /** Keyboard + mouse + jiggler, as kvmd's HID. */
  hid: Hid;
  streamer: Streamer;
  msd: MsdController;
  serial: SerialService;
  i2c: I2cDriver;
  /** Present on a simulated board: what the outside world sees, for tests. */
  sim: { gpio?: SimGpioDriver; pc?: SimulatedPc; hid?: SimHidSink; mouse?: SimHidSink; msd?: SimMsdGadget };
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
  let mouseSink: HidReportSink | undefined;
  if (profile.hid?.mouse) mouseSink = isSim(profile.hid.mouse) ? (sim.mouse = new SimHidSink()) : new HidgSink(profile.hid.mouse);
  const hid = new Hid(keyboard, new Mouse(mouseSink, (profile.hid?.mouseMode ?? 'absolute') === 'absolute'));

  let source: VideoSource | undefined;
  if (profile.video) source = isSim(profile.video.device) ? new TestPatternSource(() => clock.now()) : new UstreamerSource({ device: profile.video.device, format: profile.video.format, log: log.child({ part: 'ustreamer' }) });
  const streamer = new Streamer({ config: profile.video, source, log: log.child({ part: 'streamer' }) });

  let gadget: MsdGadget | undefined;
  if (profile.msd) gadget = isSim(profile.msd.lun) ? (sim.msd = new SimMsdGadget()) : new ConfigfsGadget(profile.msd.lun);
  const storage = profile.msd ? (isAbsolute(profile.msd.storage) ? profile.msd.storage : join(deps.stateDir ?? '.', profile.msd.storage)) : '';
  const msd = new MsdController(profile.msd, storage, gadget);
  await msd.start();

  const simSerial = new SimSerialDriver();
  let realSerial: SerialDriver | undefined;
  const serial = new SerialService(profile, (path) => (isSim(path) ? simSerial : (realSerial ??= new SerialportDriver())));
  const i2c: I2cDriver = simulatedBoard ? new SimI2cDriver(profile.i2c) : new I2cBusDriver();

  const ts = () => clock.now();
  gpio.onChange(() => deps.emit({ kind: 'gpio', ts: ts(), state: gpio.state() }));
  atx.onChange(() => deps.emit({ kind: 'atx', ts: ts(), state: atx.state() }));
  hid.onChange(() => deps.emit({ kind: 'hid', ts: ts(), state: hid.state() }));
  streamer.onChange(() => deps.emit({ kind: 'streamer', ts: ts(), state: streamer.state() }));
  msd.onChange(() => deps.emit({ kind: 'msd', ts: ts(), state: msd.state() }));
  log.info('hardware ready', {
    profile: profile.id,
    gpio: simGpio ? 'simulated' : 'sysfs',
    channels: Object.keys(profile.gpio.channels).length,
    atx: profile.atx ? (sim.pc ? 'simulated pc' : 'gpio') : 'none',
    hid: sink?.kind ?? 'none',
    mouse: mouseSink ? `${mouseSink.kind} ${profile.hid?.mouseMode ?? 'absolute'}` : 'none',
    video: source?.kind ?? 'none',
    msd: gadget?.kind ?? 'none',
    i2c: i2c.kind,
  });

  return {
    deps,
    gpio,
    atx,
    keyboard,
    hid,
    streamer,
    msd,
    serial,
    i2c,
    sim,
    async close() {
      hid.close();
      await streamer.close();
      await hid.reset().catch(() => undefined);
      sim.pc?.close();
      await gpio.close().catch(() => undefined);
      await serial.close();
      await i2c.close();
      await sink?.close();
      await mouseSink?.close();
    },
  };
}
