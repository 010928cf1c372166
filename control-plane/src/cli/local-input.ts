import { readFile } from 'node:fs/promises';
import { UsageError } from './errors.js';

/** A local file's text, or standard input's for "-"; an unreadable file is a usage error naming it. */
export async function readLocalText(path: string, stdin: NodeJS.ReadableStream, usage: string): Promise<string> {
  try {
    if (path !== '-') return await readFile(path, 'utf8');
    const chunks: Buffer[] = [];
    for await (const c of stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
    return Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, usage);
  }
}
