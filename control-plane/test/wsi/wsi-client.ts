import WebSocket from 'ws';

/** What a backend answers to one of the control server's requests (undefined: never answer). */
export type Handler = (req: string, msg: any) => unknown | Promise<unknown>;

/**
 * The reference Quix WSI backend of the tests, written from the seed (003): it sends the seed's
 * frames byte for byte, answers the server's requests through `handler`, and can send raw text
 * for the failure cases. Test code reads replies loosely (`any`); the product validates with zod.
 */
export class WsiTestBackend {
  private rid = 1000;
  private readonly waiting = new Map<number, (msg: any) => void>();
  /** Frames without a rid we asked for (bad-envelope answers), in order. */
  readonly unsolicited: any[] = [];
  /** The server's requests, as received. */
  readonly requests: Array<{ req: string; rid: number; msg: any }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  handler: Handler;

  private constructor(readonly ws: WebSocket, handler: Handler) {
    this.handler = handler;
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    ws.on('message', (data) => void this.onFrame(String(data)));
  }

  static async connect(url: string, handler: Handler = () => undefined): Promise<WsiTestBackend> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new WsiTestBackend(ws, handler);
  }

  private async onFrame(text: string): Promise<void> {
    const frame = JSON.parse(text);
    if (typeof frame.req === 'string') {
      this.requests.push(frame);
      const msg = await this.handler(frame.req, frame.msg);
      if (msg !== undefined && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ rid: frame.rid, msg }));
      return;
    }
    const resolve = typeof frame.rid === 'number' ? this.waiting.get(frame.rid) : undefined;
    if (resolve) {
      this.waiting.delete(frame.rid);
      resolve(frame.msg);
    } else this.unsolicited.push(frame);
  }

  /** Sends `{auth, req, rid, msg}` and resolves with the reply's `msg`. */
  request(req: string, msg: unknown, auth: string | null = null): Promise<any> {
    const rid = this.rid++;
    return this.requestWithRid(rid, { auth, req, rid, msg });
  }

  requestWithRid(rid: number, frame: unknown): Promise<any> {
    return new Promise((resolve) => {
      this.waiting.set(rid, resolve);
      this.ws.send(JSON.stringify(frame));
    });
  }

  /** Sends raw text and resolves with the next unsolicited frame (a bad-envelope answer). */
  async raw(text: string | Buffer): Promise<any> {
    const before = this.unsolicited.length;
    this.ws.send(text);
    for (let i = 0; i < 200 && this.unsolicited.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    return this.unsolicited[before];
  }

  login(username: string, password: string): Promise<any> {
    return this.request('authenticate', { username, password });
  }

  close(): void {
    this.ws.close(1000);
  }
}

/** The running list the seed shows for `view_running`. */
export const SEED_RUNNING = [{ title: 'Test Server v0.1', pid: 12351, cpu_util: 0, mem_util: 111, reqc: 'python3 testserver/testserver.py --help', port_util: [12345, 56193] }];

/** The seed's telemetry answer (with the commas JSON needs). */
export const SEED_TELE = {
  tele_data: {
    ttl_cpu_usage: [0.1, 0.11, 0.02, 0.01],
    ttl_mem_usage: [128, 1000, 412],
    disk_util: { '/dev/sda': [195739194, 8185749375], '/dev/sdb': [185844831, 8187395730] },
    vpn_status: { ifname: 'wg0', conn_type: 'wireguard', conn_host: 'th1.s.quix.click', conn_ip4: '10.8.0.120', conn_ip6: 'fe80::1' },
  },
};

/** A backend that answers every verb as the seed does. */
export const seedHandler: Handler = (req, msg) => {
  if (req === 'execute') return { result: 'success', proc_id: 12345 };
  if (req === 'view_running') return SEED_RUNNING;
  if (req === 'proc_signal') return msg?.pid === 12351 ? { result: 'success' } : { result: 'failure', reason: 'not started by quix' };
  if (req === 'telemetry') return SEED_TELE;
  return undefined;
};
