import { EdgehookError } from '@edgehook/shared';

/**
 * The VPN's IPv4 pool: the hub takes the subnet's first host address, devices the ones after it;
 * the network and broadcast addresses are never handed out.
 */
export interface AddressPool {
  readonly cidr: string;
  readonly prefix: number;
  readonly hubAddress: string;
  /** How many device addresses the pool holds. */
  readonly capacity: number;
  addressAt(index: number): string;
}

const toInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** Why a subnet cannot be a pool, or undefined when it can (`10.87.0.0/24`). */
export function subnetProblem(cidr: string): string | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  if (!m || m[1] === undefined || m[2] === undefined) return 'must be an IPv4 CIDR like 10.87.0.0/24';
  if (m[1].split('.').some((o) => Number(o) > 255 || !/^(0|[1-9]\d*)$/.test(o))) return 'must be an IPv4 CIDR like 10.87.0.0/24';
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) return 'the prefix must be /8 to /30 (room for the hub and at least one device)';
  const network = toInt(m[1]);
  if (network % 2 ** (32 - prefix) !== 0) return `has host bits set: the network is ${toIp(network - (network % 2 ** (32 - prefix)))}/${prefix}`;
  return undefined;
}

export function addressPool(cidr: string): AddressPool {
  const problem = subnetProblem(cidr);
  if (problem) throw new Error(`VPN subnet ${cidr}: ${problem}`);
  const [base = '', bits = ''] = cidr.split('/');
  const prefix = Number(bits);
  const network = toInt(base);
  const size = 2 ** (32 - prefix);
  const capacity = size - 3;
  return {
    cidr,
    prefix,
    hubAddress: toIp(network + 1),
    capacity,
    addressAt(index) {
      if (!Number.isInteger(index) || index < 0 || index >= capacity) throw new EdgehookError('CONFLICT', `address ${index} is outside the VPN pool ${cidr}`);
      return toIp(network + 2 + index);
    },
  };
}
