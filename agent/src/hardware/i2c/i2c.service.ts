import type { Profile } from '@edgehook/firmware-profiles';
import type { I2cDriver } from './i2c.driver.js';
import { readPlan } from './sensor-decode.js';

export interface SensorReading {
  name: string;
  bus: number;
  address: number;
  metric: string;
  unit: string;
  value: number | null;
  error?: string;
}

/** Reads every sensor the profile declares; a failing sensor reports its error, not the batch. */
export async function readSensors(profile: Profile, driver: I2cDriver): Promise<SensorReading[]> {
  const out: SensorReading[] = [];
  for (const bus of profile.i2c) {
    for (const s of bus.sensors) {
      const base = { name: s.name, bus: bus.bus, address: s.address, metric: s.metric, unit: s.unit };
      const plan = readPlan(s);
      if ('unsupported' in plan) {
        out.push({ ...base, value: null, error: plan.unsupported });
        continue;
      }
      try {
        const value = plan.decode(await driver.readRegister(bus.bus, s.address, plan.register, plan.bytes));
        out.push({ ...base, value: Math.round(value * 1000) / 1000 });
      } catch (err) {
        out.push({ ...base, value: null, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return out;
}
