import type * as z from '@edgehook/shared/zod';
import { EdgehookError, validate } from '@edgehook/shared';
import type { Context } from 'hono';

/**
 * Reads and validates a JSON body; malformed JSON and schema failures become clear 400s. A body
 * must say `application/json` (415 otherwise): a browser form or `text/plain` cross-site post
 * cannot pass for an API call. An empty body stands for `{}`.
 */
export async function jsonBody<S extends z.ZodMiniType>(c: Context, schema: S): Promise<z.output<S>> {
  let raw: unknown;
  const text = await c.req.text();
  if (text.trim() === '') raw = {};
  else {
    if (!isJsonType(c.req.header('content-type'))) throw new EdgehookError('UNSUPPORTED_MEDIA_TYPE', 'send the body with Content-Type: application/json');
    try {
      raw = JSON.parse(text);
    } catch {
      throw new EdgehookError('BAD_REQUEST', 'the request body is not valid JSON');
    }
  }
  const result = validate(schema, raw);
  if (!result.ok) throw new EdgehookError('BAD_REQUEST', `invalid request body: ${result.error}`);
  return result.value;
}

export function isJsonType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** Form fields (urlencoded or multipart); a malformed body is a 400, never a 500. */
export async function formFields(c: Context): Promise<Record<string, unknown>> {
  try {
    return await c.req.parseBody();
  } catch (err) {
    if (err instanceof EdgehookError) throw err;
    throw new EdgehookError('BAD_REQUEST', `the form body cannot be parsed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function parseValue<S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = validate(schema, value);
  if (!result.ok) throw new EdgehookError('BAD_REQUEST', `invalid ${what}: ${result.error}`);
  return result.value;
}
