import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { EdgehookError, type SshKeyView } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { isoTime, newId } from '../db/ids.js';

export interface ParsedPublicKey {
  type: string;
  /** The key blob (what an SSH client presents). */
  blob: Buffer;
  comment: string;
  fingerprint: string;
}

const TYPES = new Set(['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521']);

/** One OpenSSH public key line; the blob's own type name must match the line's. */
export function parsePublicKeyLine(line: string): ParsedPublicKey {
  const m = /^\s*(\S+)\s+([A-Za-z0-9+/]+={0,3})(?:\s+(.*?))?\s*$/.exec(line);
  if (!m || !TYPES.has(m[1] ?? '')) throw new EdgehookError('BAD_REQUEST', 'not an SSH public key: give one line like "ssh-ed25519 AAAA... you@host" (the .pub file, never the private key)');
  const blob = Buffer.from(m[2] ?? '', 'base64');
  const nameLength = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (nameLength < 1 || 4 + nameLength > blob.length || blob.toString('latin1', 4, 4 + nameLength) !== m[1]) throw new EdgehookError('BAD_REQUEST', 'the SSH public key is damaged (its data does not match its type)');
  return { type: m[1] ?? '', blob, comment: m[3] ?? '', fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}` };
}

export async function addSshKey(db: Kysely<Database>, userId: string, line: string, name: string | undefined, now: number): Promise<SshKeyView> {
  const key = parsePublicKeyLine(line);
  const existing = await db.selectFrom('user_ssh_keys').select('id').where('user_id', '=', userId).where('fingerprint', '=', key.fingerprint).executeTakeFirst();
  if (existing) throw new EdgehookError('CONFLICT', `this key is already registered (${key.fingerprint})`);
  const row = { id: newId(), user_id: userId, name: name ?? (key.comment || key.type), public_key: `${key.type} ${key.blob.toString('base64')}`, fingerprint: key.fingerprint, created_at: isoTime(now) };
  await db.insertInto('user_ssh_keys').values(row).execute();
  return { id: row.id, name: row.name, type: key.type, fingerprint: row.fingerprint, createdAt: row.created_at };
}

export async function listSshKeys(db: Kysely<Database>, userId: string): Promise<SshKeyView[]> {
  const rows = await db.selectFrom('user_ssh_keys').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
  return rows.map((r) => ({ id: r.id, name: r.name, type: r.public_key.split(' ')[0] ?? '', fingerprint: r.fingerprint, createdAt: r.created_at }));
}

export async function deleteSshKey(db: Kysely<Database>, userId: string, id: string): Promise<boolean> {
  const res = await db.deleteFrom('user_ssh_keys').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Is this key blob registered for the user? (Checked at login and again while connected.) */
export async function hasSshKey(db: Kysely<Database>, userId: string, blob: Buffer): Promise<boolean> {
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  const row = await db.selectFrom('user_ssh_keys').select('id').where('user_id', '=', userId).where('fingerprint', '=', fingerprint).executeTakeFirst();
  return row !== undefined;
}
