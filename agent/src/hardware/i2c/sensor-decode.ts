import type { I2cSensor } from '@edgehook/firmware-profiles';

export interface ReadPlan {
  register: number;
  bytes: number;
  decode: (buf: Buffer) => number;
}

function rawDecoder(d: NonNullable<I2cSensor['decode']>): ReadPlan {
  return {
    register: d.register,
    bytes: d.bytes,
    decode: (buf) => {
      const raw = d.signed ? buf.readIntBE(0, d.bytes) : buf.readUIntBE(0, d.bytes);
      return raw * d.scale + d.offset;
    },
  };
}

/**
 * How to read and decode each sensor type. TMP102: register 0, 12-bit two's complement,
 * 0.0625 C per bit, left-aligned. LM75: register 0, 9-bit, 0.5 C per bit. A profile's
 * `decode` overrides the built-in decoder.
 */
export function readPlan(sensor: I2cSensor): ReadPlan | { unsupported: string } {
  if (sensor.decode) return rawDecoder(sensor.decode);
  switch (sensor.type) {
    case 'tmp102':
      return { register: 0, bytes: 2, decode: (buf) => (buf.readInt16BE(0) >> 4) * 0.0625 };
    case 'lm75':
      return { register: 0, bytes: 2, decode: (buf) => (buf.readInt16BE(0) >> 7) * 0.5 };
    default:
      return { unsupported: `no built-in decoder for ${sensor.type}; give the sensor a 'decode' section` };
  }
}

/** Inverse of the TMP102 decoding, for the simulator. */
export function encodeTmp102(celsius: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(Math.round(celsius / 0.0625) << 4, 0);
  return b;
}

export function encodeLm75(celsius: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(Math.round(celsius / 0.5) << 7, 0);
  return b;
}
