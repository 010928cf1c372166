import type { ParsedProfileFile } from './schema.js';

/**
 * Applies a child profile on top of its (already merged) base. GPIO channels merge by name
 * so a HAT profile can add lines to a board; every other section is replaced whole, because
 * half-merged lists (serial ports, I2C buses) or ATX wiring would be surprising.
 */
export function mergeProfileFiles(base: ParsedProfileFile, child: ParsedProfileFile): ParsedProfileFile {
  return {
    id: child.id,
    extends: child.extends,
    override: child.override,
    name: child.name ?? base.name,
    description: child.description ?? base.description,
    platform: child.platform ?? base.platform,
    gpio: mergeGpio(base.gpio, child.gpio),
    atx: child.atx ?? base.atx,
    hid: child.hid ?? base.hid,
    video: child.video ?? base.video,
    msd: child.msd ?? base.msd,
    serial: child.serial ?? base.serial,
    i2c: child.i2c ?? base.i2c,
    thermalZones: child.thermalZones ?? base.thermalZones,
    throttling: child.throttling ?? base.throttling,
  };
}

function mergeGpio(base: ParsedProfileFile['gpio'], child: ParsedProfileFile['gpio']): ParsedProfileFile['gpio'] {
  if (base === undefined) return child;
  if (child === undefined) return base;
  return { chip: child.chip ?? base.chip, channels: { ...base.channels, ...child.channels } };
}
