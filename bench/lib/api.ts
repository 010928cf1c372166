/** A small keep-alive JSON client for the control plane's REST API (node:http, no fetch pool surprises). */
import { Agent, request } from 'node:http';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

export class ApiClient {
  private readonly agent: Agent;
  constructor(
    readonly base: string,
    public token = '',
    maxSockets = 64,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 10_000 });
  }

  call<T = unknown>(method: string, path: string, body?: unknown, opts: { token?: string; timeoutMs?: number } = {}): Promise<ApiResponse<T>> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const token = opts.token ?? this.token;
    const headers: Record<string, string> = {};
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, agent: this.agent, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            // leave the text as is
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async expect<T>(status: number, method: string, path: string, body?: unknown, opts: { token?: string } = {}): Promise<T> {
    const res = await this.call<T>(method, path, body, opts);
    if (res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    return res.body;
  }

  async login(password: string, username = 'admin'): Promise<void> {
    const tokens = await this.expect<{ accessToken: string }>(200, 'POST', '/api/auth/login', { username, password }, { token: '' });
    this.token = tokens.accessToken;
  }

  async enrollmentToken(maxUses: number, expiresIn = 3600): Promise<string> {
    return (await this.expect<{ token: string }>(201, 'POST', '/api/enrollment-tokens', { maxUses, expiresIn })).token;
  }

  async onlineCount(): Promise<number> {
    return (await this.expect<unknown[]>(200, 'GET', '/api/devices?online=true', undefined)).length;
  }

  close(): void {
    this.agent.destroy();
  }
}
