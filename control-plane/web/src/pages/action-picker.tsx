import type { ActionInfo } from '@edgehook/shared';

/** Split a command line on spaces, keeping "quoted parts" together (no shell: argv goes as is). */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

const count = (n: number) => `${n} parameter${n === 1 ? '' : 's'}`;

/** What the action accepts, in words. */
export function describeParams(a: ActionInfo): string {
  const { min, max, pattern } = a.params;
  const n = max === 0 ? 'no parameters' : min === max ? count(min) : `${min} to ${count(max)}`;
  return pattern !== undefined && max > 0 ? `${n}, each matching ${pattern}` : n;
}

/**
 * The same rules the agent applies (it checks again): a readable message for the first broken one,
 * or undefined when the params fit.
 */
export function checkParams(a: ActionInfo, params: string[]): string | undefined {
  const { min, max, pattern } = a.params;
  if (params.length < min || params.length > max) return `${a.name} takes ${min === max ? count(min) : `${min} to ${count(max)}`}; you gave ${params.length}.`;
  if (pattern !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${pattern})$`);
    } catch {
      return undefined; // the agent's own check decides
    }
    const bad = params.findIndex((p) => !re.test(p));
    if (bad >= 0) return `Parameter ${bad + 1} (${JSON.stringify(params[bad])}) must match ${pattern}.`;
  }
  return undefined;
}

/** The declared actions as a labelled radio list, each with its description and parameter rules. */
export function ActionPicker(props: { actions: ActionInfo[]; selected: string; onSelect: (name: string) => void; params: string; onParams: (v: string) => void; problem: string | undefined }) {
  const chosen = props.actions.find((a) => a.name === props.selected);
  return (
    <>
      <fieldset class="actions">
        <legend>Action</legend>
        {props.actions.length === 0 && <p class="muted">This device declares no actions (agent option <code>--actions</code>).</p>}
        {props.actions.map((a) => (
          <label key={a.name} class="action-choice">
            <input type="radio" name="action" value={a.name} checked={a.name === props.selected} onChange={() => props.onSelect(a.name)} />
            <span>
              <strong class="mono">{a.name}</strong>
              {a.description && <span> — {a.description}</span>}
              <br />
              <span class="muted">
                {describeParams(a)}
                {a.timeoutMs !== undefined && `; stops after ${a.timeoutMs / 1000} s`}
              </span>
            </span>
          </label>
        ))}
      </fieldset>
      {chosen && chosen.params.max > 0 && (
        <label>
          Parameters (space separated, "quotes" for spaces)
          <input
            name="params"
            value={props.params}
            onInput={(e) => props.onParams(e.currentTarget.value)}
            aria-invalid={props.problem ? 'true' : 'false'}
            aria-describedby="params-problem"
            placeholder={describeParams(chosen)}
          />
        </label>
      )}
      {props.problem && (
        <p id="params-problem" class="error" role="alert">
          {props.problem}
        </p>
      )}
    </>
  );
}
