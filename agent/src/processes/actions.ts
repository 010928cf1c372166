import { readFile } from 'node:fs/promises';
import * as z from '@edgehook/shared/zod';
import { describeIssues, EdgehookError, type ActionInfo } from '@edgehook/shared';

/**
 * Server-defined processes (pow-1 "calls"), declared in the agent's actions file.
 * `command` is an argv; `{0}`, `{1}`... are replaced by the call's params, and with
 * `args: "append"` (the default) the params are also appended after the command.
 */
export const ActionSpec = z.strictObject({
    name: z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,128}$/, 'letters, digits, _ . - only')),
    description: z.optional(z.string().check(z.maxLength(500))),
    command: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
    args: z._default(z.enum(['append', 'ignore']), 'append'),
    params: z._default(z.strictObject({
        min: z._default(z.number().check(z.int(), z.gte(0)), 0),
        max: z._default(z.number().check(z.int(), z.gte(0), z.lte(256)), 16),
        /** Each param must match this (anchored) regular expression. */
        pattern: z.optional(z.string()),
      }), { min: 0, max: 16 }),
    /** What a successful run is fulfilled with. */
    value: z._default(z.enum(['params', 'exitCode', 'none']), 'exitCode'),
    timeoutMs: z.optional(z.number().check(z.int(), z.positive(), z.lte(7 * 24 * 3600_000))),
    env: z._default(z.record(z.string(), z.string()), {}),
    cwd: z.optional(z.string()),
  });
export type ActionSpec = z.infer<typeof ActionSpec>;

export const ActionsFile = z.strictObject({ actions: z.array(ActionSpec) }).check(z.refine((f) => new Set(f.actions.map((a) => a.name)).size === f.actions.length, 'action names must be unique'));

export class Actions {
  private readonly byName: Map<string, ActionSpec>;
  constructor(list: ActionSpec[]) {
    this.byName = new Map(list.map((a) => [a.name, a]));
  }
  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** What operators may see of each action: never its command, env or cwd. */
  get info(): ActionInfo[] {
    return [...this.byName.values()].map((a) => ({
      name: a.name,
      ...(a.description !== undefined ? { description: a.description } : {}),
      params: { min: a.params.min, max: a.params.max, ...(a.params.pattern !== undefined ? { pattern: a.params.pattern } : {}) },
      ...(a.timeoutMs !== undefined ? { timeoutMs: a.timeoutMs } : {}),
    }));
  }

  /** The argv for a call, or a refusal that says why. */
  resolve(call: string, params: string[]): { action: ActionSpec; argv: string[] } {
    const action = this.byName.get(call);
    if (!action) {
      const declared = this.names.length ? `declared actions: ${this.names.join(', ')}` : 'this device declares no actions (edgehook-agent --actions FILE)';
      throw new EdgehookError('NOT_FOUND', `unknown process ${JSON.stringify(call)}; ${declared}`);
    }
    const { min, max, pattern } = action.params;
    if (params.length < min || params.length > max) throw new EdgehookError('BAD_REQUEST', `${call} takes ${min === max ? min : `${min} to ${max}`} params, got ${params.length}`);
    if (pattern !== undefined) {
      const re = new RegExp(`^(?:${pattern})$`);
      const bad = params.findIndex((p) => !re.test(p));
      if (bad >= 0) throw new EdgehookError('BAD_REQUEST', `param ${bad} of ${call} does not match ${pattern}`);
    }
    let used = false;
    const argv = action.command.map((part) =>
      part.replace(/\{(\d+)\}/g, (_, n: string) => {
        used = true;
        const v = params[Number(n)];
        if (v === undefined) throw new EdgehookError('BAD_REQUEST', `${call} needs param ${n}`);
        return v;
      }),
    );
    if (action.args === 'append' && !used) argv.push(...params);
    return { action, argv };
  }
}

export async function loadActions(path: string | undefined): Promise<Actions> {
  if (!path) return new Actions([]);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read actions file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = ActionsFile.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid actions file ${path}: ${describeIssues(parsed.error)}`);
  return new Actions(parsed.data.actions);
}
