import type { Channel, OutputChannel, Profile } from '@edgehook/firmware-profiles';
import type { Clock, GpioModel, GpioState, Logger } from '@edgehook/shared';
import { hwError, sleep } from '../errors.js';
import type { GpioDriver, Level } from './gpio.driver.js';

interface ChannelRuntime {
  name: string;
  config: Channel;
  online: boolean;
  offlineReason?: string;
  /** Logical state (active-low already applied). */
  state: boolean;
  busy: boolean;
}

/** Inputs without edge events are polled this often. */
const POLL_MS = 500;

export interface PressResult {
  /** Measured time the line was held active, in ms (monotonic clock). */
  durationMs: number;
}

/**
 * The profile's GPIO channels over one driver: logical states, switch and pulse with the
 * profile's bounds, one operation per channel at a time (a second one is refused, as kvmd
 * answers 409), and change notifications for the event stream.
 */
export class GpioController {
  private readonly channels = new Map<string, ChannelRuntime>();
  private readonly listeners = new Set<() => void>();
  private readonly stops: (() => void)[] = [];
  private notifyQueued = false;
  private poll: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: { profile: Profile; driver: GpioDriver; clock: Clock; log: Logger },
  ) {}

  async start(): Promise<void> {
    const { driver, log } = this.deps;
    let needsPoll = false;
    for (const [name, config] of Object.entries(this.deps.profile.gpio.channels)) {
      const rt: ChannelRuntime = { name, config, online: false, state: false, busy: false };
      this.channels.set(name, rt);
      try {
        if (config.direction === 'output') {
          const initial = config.initial === undefined ? undefined : this.physical(config, config.initial);
          await driver.claim({ line: config.line, direction: 'output', initial });
        } else {
          await driver.claim({ line: config.line, direction: 'input', edge: config.edge });
        }
        rt.state = this.logical(config, await driver.read(config.line));
        rt.online = true;
        if (config.direction === 'input' && config.edge !== undefined && config.edge !== 'none') {
          this.stops.push(driver.watch(config.line, (level) => this.setState(rt, this.logical(config, level))));
        } else if (config.direction === 'input') {
          needsPoll = true;
        }
      } catch (err) {
        rt.offlineReason = err instanceof Error ? err.message : String(err);
        log.warn('gpio channel offline', { channel: name, line: config.line, err: rt.offlineReason });
      }
    }
    if (needsPoll) {
      this.poll = setInterval(() => void this.pollInputs(), POLL_MS);
      this.poll.unref();
    }
  }

  private async pollInputs(): Promise<void> {
    for (const rt of this.channels.values()) {
      if (rt.config.direction !== 'input' || !rt.online || (rt.config.edge ?? 'none') !== 'none') continue;
      try {
        this.setState(rt, this.logical(rt.config, await this.deps.driver.read(rt.config.line)));
      } catch {
        // A transient read error keeps the last known state.
      }
    }
  }

  private logical(config: Channel, level: Level): boolean {
    return config.activeLow ? level === 0 : level === 1;
  }

  private physical(config: Channel, state: boolean): Level {
    return state !== config.activeLow ? 1 : 0;
  }

  private setState(rt: ChannelRuntime, state: boolean): void {
    if (rt.state === state) return;
    rt.state = state;
    this.notify();
  }

  /** Listeners hear about changes once per tick, however many lines moved in it. */
  private notify(): void {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const l of this.listeners) l();
    });
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  has(name: string): boolean {
    return this.channels.has(name);
  }

  /** Logical state of a channel (false when unknown or offline). */
  value(name: string): boolean {
    return this.channels.get(name)?.state ?? false;
  }

  busy(name: string): boolean {
    return this.channels.get(name)?.busy ?? false;
  }

  private channel(name: string): ChannelRuntime {
    const rt = this.channels.get(name);
    if (!rt) {
      const known = [...this.channels.keys()].join(', ') || 'none';
      throw hwError('BAD_REQUEST', 'GpioChannelNotFoundError', `unknown GPIO channel '${name}' (known: ${known})`);
    }
    if (!rt.online) throw hwError('INTERNAL', 'GpioDriverOfflineError', `GPIO channel '${name}' is offline: ${rt.offlineReason ?? 'not claimed'}`);
    return rt;
  }

  private output(name: string): ChannelRuntime & { config: OutputChannel } {
    const rt = this.channel(name);
    const config = rt.config;
    if (config.direction !== 'output') throw hwError('BAD_REQUEST', 'GpioSwitchNotSupported', `GPIO channel '${name}' is an input`);
    // Same object, with the narrowed config type.
    return Object.assign(rt, { config });
  }

  private async drive(rt: ChannelRuntime, state: boolean): Promise<void> {
    await this.deps.driver.write(rt.config.line, this.physical(rt.config, state));
    this.setState(rt, state);
  }

  private take(rt: ChannelRuntime): void {
    if (rt.busy) throw hwError('CONFLICT', 'GpioChannelIsBusyError', `GPIO channel '${rt.name}' is busy with another operation`);
    rt.busy = true;
    this.notify();
  }

  private release(rt: ChannelRuntime): void {
    rt.busy = false;
    this.notify();
  }

  async switch(name: string, state: boolean): Promise<void> {
    const rt = this.output(name);
    if (!rt.config.switch) throw hwError('BAD_REQUEST', 'GpioSwitchNotSupported', `GPIO channel '${name}' is pulse-only and cannot be switched`);
    this.take(rt);
    try {
      await this.drive(rt, state);
    } finally {
      this.release(rt);
    }
  }

  /**
   * A pulse within the channel's bounds; `delaySec` 0 means the profile's default. Returns
   * once the pulse has started; `done` settles when it has ended.
   */
  async pulse(name: string, delaySec: number): Promise<{ done: Promise<PressResult> }> {
    const rt = this.output(name);
    const { delay, min, max } = rt.config.pulse;
    const seconds = delaySec === 0 ? delay : delaySec;
    if (seconds < min || seconds > max) {
      throw hwError('BAD_REQUEST', 'GpioPulseDelayError', `delay ${delaySec} s is outside channel '${name}' bounds ${min}..${max} s`);
    }
    return this.press(name, seconds * 1000);
  }

  /** Holds an output active for `ms` without the pulse bounds (ATX clicks use their own delays). */
  async press(name: string, ms: number): Promise<{ done: Promise<PressResult> }> {
    const rt = this.output(name);
    this.take(rt);
    try {
      await this.drive(rt, true);
    } catch (err) {
      this.release(rt);
      throw err;
    }
    const { clock } = this.deps;
    const started = clock.monotonic();
    const done = (async () => {
      try {
        // Sleep most of the delay, then spin on the clock for the last few ms: timers alone run late.
        const coarse = ms - 4;
        if (coarse > 0) await sleep(coarse);
        while (clock.monotonic() - started < ms) await new Promise((r) => setImmediate(r));
        await this.drive(rt, false);
        return { durationMs: clock.monotonic() - started };
      } finally {
        this.release(rt);
      }
    })();
    done.catch((err: unknown) => this.deps.log.error('gpio pulse failed to end', { channel: name, err }));
    return { done };
  }

  state(): GpioState {
    const state: GpioState = { inputs: {}, outputs: {} };
    for (const rt of this.channels.values()) {
      if (rt.config.direction === 'input') state.inputs[rt.name] = { online: rt.online, state: rt.state };
      else state.outputs[rt.name] = { online: rt.online, state: rt.state, busy: rt.busy };
    }
    return state;
  }

  /** kvmd's gpio model: the scheme plus a simple view table (one row per channel). */
  model(): GpioModel {
    const driver = this.deps.driver.kind === 'simulated' ? 'simulated' : '__gpio__';
    const model: GpioModel = { scheme: { inputs: {}, outputs: {} }, view: { header: { title: [{ type: 'label', text: 'GPIO' }] }, table: [] } };
    for (const rt of this.channels.values()) {
      const c = rt.config;
      const hw = { driver, pin: String(c.line) };
      const label = { type: 'label', text: c.title ?? rt.name };
      if (c.direction === 'input') {
        model.scheme.inputs[rt.name] = { hw };
        model.view.table.push([label, { type: 'input', channel: rt.name, color: 'green' }]);
      } else {
        model.scheme.outputs[rt.name] = { switch: c.switch, pulse: { delay: c.pulse.delay, min_delay: c.pulse.min, max_delay: c.pulse.max }, hw };
        model.view.table.push([label, { type: 'output', channel: rt.name, text: c.switch ? 'Switch' : 'Click' }]);
      }
    }
    return model;
  }

  async close(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    for (const stop of this.stops) stop();
    this.listeners.clear();
    await this.deps.driver.close();
  }
}
