/**
 * A state machine definition (ASL) as a graph for the console: the states as nodes (a Map or
 * Parallel state holds its inner states as a nested scope), transitions as edges (Next, Choices,
 * Default, Catch), plus Start and End. Layout and drawing are the browser's (dagre); this only
 * reads the definition. State names are unique across a whole definition in ASL, so a state's
 * name is its id, the same name the execution history reports.
 */
import { readFileSync } from 'node:fs';
import { ASL_PATH, fillFacts } from '../../infra/local/sfn/load-definition.js';

type EdgeKind = 'next' | 'choice' | 'default' | 'catch' | 'end';

interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** Error names of a Catch, the rule of a Choice. */
  label?: string;
}

interface GraphNode {
  id: string;
  type: string;
  comment?: string;
  /** What a Task runs, for a page: `Lambda function: splitter`, `arn:aws:states:::events:putEvents`
   * (no account, no function ARN). */
  resource?: string;
  /** The Retry rules, one line each (`Facerec.Transient, …: 4 attempts, 1 s ×2, max 10 s`). */
  retry?: string[];
  /** The Catch rules, one line each (`States.ALL -> Splitting failed`). */
  catch?: string[];
  timeoutSec?: number;
  /** The first state of its scope. */
  start?: boolean;
  /** A Map state's processing mode: `distributed` runs its iterations as child executions (a Map
   * Run), whose events are not in the parent's history. */
  mapMode?: 'inline' | 'distributed';
  /** What a Distributed Map reads, batches and writes, one line each (`Items: s3:getObject …`). */
  mapRun?: string[];
  /** A state inside a Distributed Map: it runs in the Map Run's child executions. */
  inChildExecutions?: boolean;
  /** Inner states (Map, Parallel branches). */
  children?: GraphScope[];
}

export interface GraphScope {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const START = '__start__';
export const END = '__end__';

type AslState = Record<string, unknown> & { Type?: string };

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function scopeOf(
  states: Record<string, AslState>,
  startAt: string | undefined,
  top: boolean,
  inChildExecutions = false,
): GraphScope {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  if (top) nodes.push({ id: START, type: 'Start' });
  if (top && startAt) edges.push({ from: START, to: startAt, kind: 'next' });
  let ends = false;
  for (const [name, s] of Object.entries(states ?? {})) {
    if (!s || typeof s !== 'object') continue;
    const type = str(s.Type) ?? '?';
    const node: GraphNode = {
      id: name,
      type,
      ...(name === startAt ? { start: true } : {}),
      ...(inChildExecutions ? { inChildExecutions: true } : {}),
    };
    const comment = str(s.Comment);
    if (comment) node.comment = comment;
    const resource = resourceLabel(str(s.Resource));
    if (resource) node.resource = resource;
    if (Array.isArray(s.Retry) && s.Retry.length) node.retry = (s.Retry as unknown[]).map(retryLabel);
    if (Array.isArray(s.Catch) && s.Catch.length)
      node.catch = (s.Catch as Array<Record<string, unknown>>).map(
        (c) => `${errorsOf(c).join(', ')} -> ${str(c.Next) ?? '?'}`,
      );
    if (typeof s.TimeoutSeconds === 'number') node.timeoutSec = s.TimeoutSeconds;
    const processor = (s.ItemProcessor ?? s.Iterator) as {
      States?: Record<string, AslState>;
      StartAt?: string;
      ProcessorConfig?: { Mode?: unknown };
    };
    const distributed = type === 'Map' && processor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
    if (type === 'Map') node.mapMode = distributed ? 'distributed' : 'inline';
    if (distributed) node.mapRun = mapRunLines(s);
    if (processor?.States)
      node.children = [scopeOf(processor.States, processor.StartAt, false, inChildExecutions || distributed)];
    const branches = s.Branches as Array<{ States?: Record<string, AslState>; StartAt?: string }> | undefined;
    if (Array.isArray(branches))
      node.children = branches.map((b) => scopeOf(b.States ?? {}, b.StartAt, false));
    nodes.push(node);

    const next = str(s.Next);
    if (next) edges.push({ from: name, to: next, kind: 'next' });
    if (Array.isArray(s.Choices)) {
      for (const c of s.Choices as Array<Record<string, unknown>>) {
        const to = str(c.Next);
        if (to) edges.push({ from: name, to, kind: 'choice', label: choiceLabel(c) });
      }
    }
    const dflt = str(s.Default);
    if (dflt) edges.push({ from: name, to: dflt, kind: 'default', label: 'default' });
    if (Array.isArray(s.Catch)) {
      for (const c of s.Catch as Array<Record<string, unknown>>) {
        const to = str(c.Next);
        if (to) edges.push({ from: name, to, kind: 'catch', label: errorsOf(c).join(', ') });
      }
    }
    if (top && (s.End === true || type === 'Succeed' || type === 'Fail')) {
      edges.push({ from: name, to: END, kind: 'end' });
      ends = true;
    }
  }
  if (top && ends) nodes.push({ id: END, type: 'End' });
  // Transitions to states that do not exist would break the layout: drop them.
  const ids = new Set(nodes.map((n) => n.id));
  return { nodes, edges: edges.filter((e) => ids.has(e.from) && ids.has(e.to)) };
}

/** A Distributed Map's reader, batcher, child executions and writer, in words. */
function mapRunLines(s: AslState): string[] {
  const obj = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined);
  const reader = obj(s.ItemReader);
  const batcher = obj(s.ItemBatcher);
  const writer = obj(s.ResultWriter);
  const config = obj(obj(s.ItemProcessor)?.ProcessorConfig);
  const inputType = str(obj(reader?.ReaderConfig)?.InputType);
  const limit = (n: unknown, path: unknown) => (typeof n === 'number' ? String(n) : str(path));
  const perBatch = limit(batcher?.MaxItemsPerBatch, batcher?.MaxItemsPerBatchPath);
  const tolerated = limit(s.ToleratedFailurePercentage, s.ToleratedFailurePercentagePath);
  return [
    `Items: ${reader ? `${str(reader.Resource) ?? '?'}${inputType ? ` (${inputType})` : ''}` : (str(s.ItemsPath) ?? '$')}`,
    ...(batcher ? [`Batches: ${perBatch ? `up to ${perBatch} items` : 'by size'} a child execution`] : []),
    `Child executions: ${str(config?.ExecutionType) ?? 'STANDARD'}, their events in the Map Run, not in this history`,
    ...(writer ? [`Results: ${str(writer.Resource) ?? '?'} (the Map Run's result files)`] : []),
    ...(tolerated
      ? [`Tolerated failures: ${tolerated}${typeof s.ToleratedFailurePercentage === 'number' ? '%' : ''}`]
      : []),
  ];
}

const errorsOf = (rule: Record<string, unknown>): string[] =>
  Array.isArray(rule.ErrorEquals) ? rule.ErrorEquals.filter((e): e is string => typeof e === 'string') : [];

/** A placeholder of the definition file (`${SplitterFunctionArn}`, kept by readDefinition as
 * `{{SplitterFunctionArn}}`) as words; a service integration ARN as it is (it names no account). */
export function resourceLabel(resource: string | undefined): string | undefined {
  if (!resource) return undefined;
  const placeholder = /^\{\{(\w+)\}\}$/.exec(resource)?.[1];
  if (placeholder) {
    const fn = /^(\w+?)FunctionArn$/.exec(placeholder)?.[1];
    return fn ? `Lambda function: ${fn.toLowerCase()}` : placeholder;
  }
  const lambda = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(resource)?.[1];
  if (lambda) return `Lambda function: ${lambda}`;
  return /^arn:aws[\w-]*:states:::/.test(resource) ? resource : undefined;
}

function retryLabel(rule: unknown): string {
  const r = (rule && typeof rule === 'object' ? rule : {}) as Record<string, unknown>;
  const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : undefined);
  const parts = [
    `${n('MaxAttempts') ?? 3} attempts`,
    `${n('IntervalSeconds') ?? 1} s ×${n('BackoffRate') ?? 2}`,
    ...(n('MaxDelaySeconds') !== undefined ? [`max ${n('MaxDelaySeconds')} s`] : []),
    ...(str(r.JitterStrategy) === 'FULL' ? ['jitter'] : []),
  ];
  return `${errorsOf(r).join(', ')}: ${parts.join(', ')}`;
}

/** The states inside Map (and Parallel) states: their events belong to one iteration. */
export function innerStates(definition: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  const walk = (states: Record<string, AslState>, inner: boolean) => {
    for (const [name, s] of Object.entries(states ?? {})) {
      if (inner) out.add(name);
      const processor = (s.ItemProcessor ?? s.Iterator) as { States?: Record<string, AslState> };
      if (processor?.States) walk(processor.States, true);
    }
  };
  walk((definition.States ?? {}) as Record<string, AslState>, false);
  return out;
}

function choiceLabel(rule: Record<string, unknown>): string {
  const variable = str(rule.Variable) ?? '';
  const op = Object.keys(rule).find((k) => k !== 'Variable' && k !== 'Next');
  if (!op) return variable;
  const v = rule[op];
  return `${variable} ${op} ${typeof v === 'object' ? '…' : String(v)}`.trim().slice(0, 60);
}

/** The graph of a parsed definition. */
export function stateGraph(definition: Record<string, unknown>): GraphScope {
  return scopeOf((definition.States ?? {}) as Record<string, AslState>, str(definition.StartAt), true);
}

/** Catch targets per state (a state's caught failures are the entries of its catch targets). */
export function catchTargets(definition: Record<string, unknown>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const walk = (states: Record<string, AslState>) => {
    for (const [name, s] of Object.entries(states ?? {})) {
      if (Array.isArray(s.Catch))
        out[name] = (s.Catch as Array<Record<string, unknown>>)
          .map((c) => str(c.Next))
          .filter(Boolean) as string[];
      const processor = (s.ItemProcessor ?? s.Iterator) as { States?: Record<string, AslState> };
      if (processor?.States) walk(processor.States);
      if (Array.isArray(s.Branches))
        for (const b of s.Branches as Array<{ States?: Record<string, AslState> }>) walk(b.States ?? {});
    }
  };
  walk((definition.States ?? {}) as Record<string, AslState>);
  return out;
}

/**
 * The project's definition file, parsed. Its facts (task timeouts, Retry blocks: core/facts.ts
 * ASL_FACTS) are put in as everywhere; its deployment's substitutions are replaced by placeholders: a quoted
 * one (`"${SplitterFunctionArn}"`) by `"{{SplitterFunctionArn}}"`, an unquoted one (the Map's
 * MaxConcurrency) by 0: only the states and transitions matter here, and no function ARN reaches
 * a page.
 */
export function readDefinition(file = ASL_PATH): Record<string, unknown> {
  const text = fillFacts(readFileSync(file, 'utf8'))
    .replace(/"\$\{([A-Za-z0-9_]+)\}"/g, '"{{$1}}"')
    .replace(/\$\{[A-Za-z0-9_]+\}/g, '0');
  return JSON.parse(text) as Record<string, unknown>;
}

/** The definition file with its facts put in (its other `${…}` substitutions are filled in at
 * deployment), for the definition view. */
export function definitionText(file = ASL_PATH): string {
  return fillFacts(readFileSync(file, 'utf8'));
}
