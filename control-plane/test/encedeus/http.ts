import { request } from 'node:http';

/** node:http, because fetch refuses a GET with a body (the seed's GET /role sends one). */
export function rawRequest(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function jsonHeaders(token?: string, header = 'authorization'): Record<string, string> {
  return token === undefined ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', [header]: `Bearer ${token}` };
}
