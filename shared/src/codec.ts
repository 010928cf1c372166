import type * as z from './zod.js';

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

/** Explains a zod failure in one line a person can act on. */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Validates an already-parsed value. */
export function validate<S extends z.ZodMiniType>(schema: S, value: unknown): Decoded<z.output<S>> {
  const result = schema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, error: describeIssues(result.error) };
}

/** Parses a JSON payload (MQTT message, websocket frame, file) and validates it. */
export function decodeJson<S extends z.ZodMiniType>(schema: S, payload: Buffer | string): Decoded<z.output<S>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  return validate(schema, parsed);
}

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
