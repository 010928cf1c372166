import type { DeviceView } from '@edgehook/shared';
import { apiRoute } from '../lib/api.js';

/**
 * The fleet list arrives in pages (`GET /api/devices?limit=&after=`, name order): a small first
 * page paints the first screen at once, then larger ones, each parsed and checked in its own task.
 * One 10,000-device answer (3 MB) was one 60 ms task of JSON.parse and schema checks.
 */
export const FIRST_PAGE = 100;
export const PAGE = 2000;

/** What the events socket said during a load, so an older page does not undo it. */
export class LoadJournal {
  /** Receive order of the socket's events; a page requested at seq n knows nothing after n. */
  seq = 0;
  private readonly touched = new Map<string, number>();
  private readonly deleted = new Set<string>();
  /** Presence for devices no page has brought yet. */
  private readonly early = new Map<string, { online: boolean; ts: number }>();

  touch(id: string): number {
    this.touched.set(id, ++this.seq);
    return this.seq;
  }

  deletedNow(id: string): void {
    this.touch(id);
    this.deleted.add(id);
    this.early.delete(id);
  }

  presenceForUnknown(id: string, p: { online: boolean; ts: number }): void {
    this.early.set(id, p);
  }

  /** Merges one page, requested when the journal stood at `since`, into `devices`. */
  merge(devices: Map<string, DeviceView>, page: DeviceView[], since: number): void {
    for (const d of page) {
      const t = this.touched.get(d.id);
      if (t === undefined || t <= since) {
        devices.set(d.id, d);
        continue;
      }
      // The socket spoke about this device after the page was asked for: its word is newer.
      if (this.deleted.has(d.id) || devices.has(d.id)) continue;
      const p = this.early.get(d.id);
      devices.set(d.id, p ? { ...d, online: p.online, lastSeen: new Date(p.ts).toISOString() } : d);
    }
  }

  /** Whether the socket announced this device during the load (a page may not have it yet). */
  touchedDuringLoad(id: string): boolean {
    return this.touched.has(id) && !this.deleted.has(id);
  }
}

/**
 * Loads every page into `devices`, calling `onPage` after each; at the end, devices no page held
 * (deleted while we were not listening) are dropped, unless the socket announced them meanwhile.
 * `stale()` stops a load that a newer one replaced.
 */
export async function loadFleetPages(devices: () => Map<string, DeviceView>, journal: LoadJournal, onPage: (first: boolean) => void, stale: () => boolean): Promise<void> {
  const seen = new Set<string>();
  let after: string | undefined;
  for (let limit = FIRST_PAGE; ; limit = PAGE) {
    const since = journal.seq;
    const page = await apiRoute('deviceList', { query: { limit, ...(after === undefined ? {} : { after }) } });
    if (stale()) return;
    journal.merge(devices(), page, since);
    for (const d of page) seen.add(d.id);
    onPage(after === undefined);
    const last = page.at(-1);
    if (page.length < limit || !last) break;
    after = last.name;
  }
  const map = devices();
  for (const id of [...map.keys()]) if (!seen.has(id) && !journal.touchedDuringLoad(id)) map.delete(id);
}
