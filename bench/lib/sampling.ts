/**
 * Latency samples in ms, one request at a time. Several probes run interleaved (a, b, c, a, b, c...)
 * so that a shared machine's changing load falls on all of them alike: a reference measured in
 * the same run stays comparable. Returns one array of samples per probe, in the probes' order.
 */
export async function sampleInterleaved(rounds: number, probes: Array<() => Promise<unknown>>): Promise<number[][]> {
  const samples = probes.map((): number[] => []);
  for (let i = 0; i < rounds; i++) {
    for (const [n, probe] of probes.entries()) {
      const t0 = performance.now();
      await probe();
      samples[n]?.push(performance.now() - t0);
    }
  }
  return samples;
}
