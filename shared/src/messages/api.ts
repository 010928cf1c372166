import * as z from '../zod.js';

/** Every REST error body: `{error: {code, message, details?}}`. */
export const ApiErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.optional(z.unknown()) }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

export const PingResult = z.object({ rttMs: z.number() });
export type PingResult = z.infer<typeof PingResult>;
