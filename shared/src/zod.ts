// The zod that shared/, firmware-profiles/ and the agent build their schemas with: zod/mini, whose
// schemas carry no methods (checks and wrappers are functions, `z.optional(s)`, `s.check(z.maxLength(9))`).
// The agent bundle evaluates 1.8 MB less of it than of classic zod (issue 12's lean agent,
// BENCHMARKS.md). Classic zod sets English messages on its first schema; mini does not.
import { z } from 'zod/mini';

z.config(z.locales.en());

export { z };

/** Refuses the value inside `z.transform(...)`: mini's transform context has no `addIssue`. */
export function transformIssue(ctx: z.core.ParsePayload, message: string): void {
  ctx.issues.push({ code: 'custom', message, input: ctx.value });
}
