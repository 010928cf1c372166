import type { z } from 'zod';
import { EdgehookError, validate } from '@edgehook/shared';
import type { Context } from 'hono';

/** Reads and validates a JSON body; malformed JSON and schema failures become clear 400s. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  let raw: unknown;
  const text = await c.req.text();
  if (text.trim() === '') raw = {};
  else {
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

export function parseValue<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = validate(schema, value);
  if (!result.ok) throw new EdgehookError('BAD_REQUEST', `invalid ${what}: ${result.error}`);
  return result.value;
}
