// The zod that shared/, firmware-profiles/, the agent and the control plane build their schemas with:
// zod/mini, whose schemas carry no methods (checks and wrappers are functions, `z.optional(s)`,
// `s.check(z.maxLength(9))`). The agent bundle evaluates 1.8 MB less of it than of classic zod (issue
// 12's lean agent, BENCHMARKS.md). Import it as a namespace, `import * as z from '.../zod'`: esbuild
// then resolves each `z.x` to zod's own export and leaves out what no schema uses, which it cannot do
// through zod's `z` object (the agent bundle's build refuses that object).
import type { core } from 'zod/mini';
import { config, locales } from 'zod/mini';

export * from 'zod/mini';

// Classic zod sets English messages on its first schema; mini does not.
config(locales.en());

/** Refuses the value inside `z.transform(...)`: mini's transform context has no `addIssue`. */
export function transformIssue(ctx: core.ParsePayload, message: string): void {
  ctx.issues.push({ code: 'custom', message, input: ctx.value });
}
