/**
 * Edgehook metric -> Prometheus family, following Prometheus' naming rules (and promtool's lint):
 * snake_case with the base unit as suffix (_bytes, _seconds, _celsius, _percent), `_total` only on
 * counters, HELP text on every family. A metric not in the table (a custom series pushed on the
 * device) keeps its sanitized name: a gauge, or a counter when it already ends in `_total`.
 */
export interface PromFamily {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
}

const KNOWN: Record<string, { name: string; type?: 'counter'; help: string }> = {
  'cpu.usage': { name: 'cpu_usage_percent', help: 'CPU busy time over the last interval, percent of all cores.' },
  'cpu.core.usage': { name: 'cpu_core_usage_percent', help: 'CPU busy time of one core over the last interval, percent.' },
  'mem.used': { name: 'mem_used_bytes', help: 'Memory in use (total minus free, buffers and cache), bytes.' },
  'mem.buff_cache': { name: 'mem_buff_cache_bytes', help: 'Memory used by buffers and page cache, bytes.' },
  'mem.free': { name: 'mem_free_bytes', help: 'Unused memory, bytes.' },
  'mem.available': { name: 'mem_available_bytes', help: 'Memory available for new work without swapping, bytes.' },
  // Was edgehook_mem_total: `_total` is for counters, and this is a gauge of the memory size.
  'mem.total': { name: 'mem_size_bytes', help: 'Total usable memory, bytes.' },
  'mem.usage': { name: 'mem_usage_percent', help: 'Memory in use, percent of the total.' },
  'disk.used': { name: 'disk_used_bytes', help: 'Space used on the filesystem, bytes.' },
  'disk.free': { name: 'disk_free_bytes', help: 'Space free on the filesystem, bytes.' },
  'disk.usage': { name: 'disk_usage_percent', help: 'Space used on the filesystem, percent.' },
  'load.1': { name: 'load1', help: 'Load average over 1 minute.' },
  'load.5': { name: 'load5', help: 'Load average over 5 minutes.' },
  'load.15': { name: 'load15', help: 'Load average over 15 minutes.' },
  'net.rx_bytes': { name: 'net_receive_bytes_total', type: 'counter', help: 'Bytes received on the interface since boot.' },
  'net.tx_bytes': { name: 'net_transmit_bytes_total', type: 'counter', help: 'Bytes sent on the interface since boot.' },
  'net.rx_bps': { name: 'net_receive_bytes_per_second', help: 'Receive rate on the interface over the last interval, bytes per second.' },
  'net.tx_bps': { name: 'net_transmit_bytes_per_second', help: 'Transmit rate on the interface over the last interval, bytes per second.' },
  'temp.max': { name: 'temp_max_celsius', help: 'Hottest temperature sensor of the device, degrees Celsius.' },
  'temp.zone': { name: 'temp_celsius', help: 'Temperature of one thermal zone or sensor, degrees Celsius.' },
  'uptime.seconds': { name: 'uptime_seconds', help: 'Time since the device booted, seconds.' },
  'vpn.up': { name: 'vpn_up', help: '1 when the WireGuard peer had a recent handshake.' },
  'vpn.handshake_age': { name: 'vpn_handshake_age_seconds', help: 'Time since the last WireGuard handshake, seconds.' },
  'rpi.throttled': { name: 'rpi_throttled', help: '1 while the Raspberry Pi firmware throttles the CPU.' },
  'rpi.throttled_occurred': { name: 'rpi_throttled_occurred', help: '1 when the CPU was throttled since boot.' },
  'rpi.under_voltage': { name: 'rpi_under_voltage', help: '1 while the supply voltage is too low.' },
  'rpi.under_voltage_occurred': { name: 'rpi_under_voltage_occurred', help: '1 when the supply voltage was too low since boot.' },
  'rpi.freq_capped': { name: 'rpi_freq_capped', help: '1 while the ARM frequency is capped.' },
  'rpi.soft_temp_limit': { name: 'rpi_soft_temp_limit', help: '1 while the soft temperature limit is active.' },
  'rpi.throttled_flags': { name: 'rpi_throttled_flags', help: 'The raw bit field of vcgencmd get_throttled.' },
  'agent.telemetry.buffered_batches': { name: 'agent_telemetry_buffered_batches', help: 'Telemetry batches waiting in the agent buffer.' },
  'agent.telemetry.buffered_bytes': { name: 'agent_telemetry_buffered_bytes', help: 'Size of the agent telemetry buffer on disk, bytes.' },
  'agent.telemetry.dropped_batches': { name: 'agent_telemetry_dropped_batches', help: 'Telemetry batches the agent dropped (buffer full or too old) in the last report.' },
  'agent.telemetry.dropped_samples': { name: 'agent_telemetry_dropped_samples', help: 'Telemetry samples the agent dropped in the last report.' },
};

export function promFamily(metric: string): PromFamily {
  const known = KNOWN[metric];
  if (known) return { name: `edgehook_${known.name}`, type: known.type ?? 'gauge', help: known.help };
  const name = `edgehook_${metric.replace(/[^a-zA-Z0-9_]/g, '_')}`;
  return { name, type: name.endsWith('_total') ? 'counter' : 'gauge', help: `Edgehook metric ${metric} (a custom series pushed on the device).` };
}
