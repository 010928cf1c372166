/**
 * The seed's sequence ids: a request naming a sequence id whose result this replica already
 * has is answered from here without reaching the device. Bounded by entries and bytes, least
 * recently used out first (a Map keeps insertion order; a hit moves to the end).
 */
export class SeqCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private bytes = 0;
  readonly stats = { hits: 0, misses: 0, evicted: 0 };

  constructor(private readonly opts: { maxEntries: number; maxBytes: number; sizeOf: (v: V) => number }) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  set(key: string, value: V): void {
    const bytes = this.opts.sizeOf(value);
    if (bytes > this.opts.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.bytes;
      this.entries.delete(key);
    }
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.opts.maxEntries && this.bytes <= this.opts.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.bytes;
      this.stats.evicted++;
    }
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}
