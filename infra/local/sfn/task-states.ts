/**
 * What the local Step Functions service reads from an ASL definition: its Task states (with
 * their resources and timeouts, nested Map/Parallel states included) and the states that retry;
 * and the copy the interpreter runs, with its own timers off (the service keeps the clocks).
 * The definition comes loaded, substitutions applied (load-definition.ts).
 */

interface StateDefinition {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  Retry?: unknown;
  ItemProcessor?: { States: StateDefinitions };
  Iterator?: { States: StateDefinitions };
}
type StateDefinitions = Record<string, StateDefinition>;

/** Longer than any run; below setTimeout's limit (2^31 ms). */
export const NO_TIMEOUT_SECONDS = 2_000_000;

/** AWS's default when a Task has no TimeoutSeconds. */
const AWS_DEFAULT_TASK_TIMEOUT_SECONDS = 99_999_999;

/** Every state of the definition, nested ones included, with its name. */
function eachState(states: StateDefinitions, visit: (name: string, state: StateDefinition) => void): void {
  for (const [name, st] of Object.entries(states)) {
    visit(name, st);
    const nested = st.ItemProcessor ?? st.Iterator;
    if (nested) eachState(nested.States, visit);
  }
}

const statesOf = (definition: Record<string, unknown>) => definition.States as StateDefinitions;

/** Task state name -> its Resource. */
export function taskResources(definition: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  eachState(statesOf(definition), (name, st) => {
    if (st.Type === 'Task' && st.Resource) out.set(name, st.Resource);
  });
  return out;
}

/** Task state name -> its TimeoutSeconds (AWS's default when it has none). */
export function taskTimeouts(definition: Record<string, unknown>): Map<string, number> {
  const out = new Map<string, number>();
  eachState(statesOf(definition), (name, st) => {
    if (st.Type === 'Task') out.set(name, st.TimeoutSeconds ?? AWS_DEFAULT_TASK_TIMEOUT_SECONDS);
  });
  return out;
}

/** The names of the states with a Retry. */
export function retryingStates(definition: Record<string, unknown>): string[] {
  const names: string[] = [];
  eachState(statesOf(definition), (name, st) => {
    if (st.Retry) names.push(name);
  });
  return names;
}

/** The definition the interpreter runs: its timers off (the service keeps the clocks). */
export function withoutInterpreterTimers(definition: Record<string, unknown>): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(definition)) as Record<string, unknown>;
  delete copy.TimeoutSeconds;
  eachState(statesOf(copy), (_name, st) => {
    if (st.Type === 'Task') st.TimeoutSeconds = NO_TIMEOUT_SECONDS;
  });
  return copy;
}

/** The execution timeout of a definition, in ms (undefined: none). */
export function executionTimeoutMs(definition: Record<string, unknown>): number | undefined {
  const timeout = definition.TimeoutSeconds;
  return typeof timeout === 'number' ? timeout * 1000 : undefined;
}
