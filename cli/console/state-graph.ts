/**
 * A state machine definition (ASL) as a graph for the console: the states as nodes (a Map or
 * Parallel state holds its inner states as a nested scope), transitions as edges (Next, Choices,
 * Default, Catch), plus Start and End. Layout and drawing are the browser's (dagre); this only
 * reads the definition. State names are unique across a whole definition in ASL, so a state's
 * name is its id, the same name the execution history reports.
 */
import { readFileSync } from 'node:fs';
import { ASL_PATH } from '../../infra/local/definition.js';

export type EdgeKind = 'next' | 'choice' | 'default' | 'catch' | 'end';

export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** Error names of a Catch, the rule of a Choice. */
  label?: string;
}

export interface GraphNode {
  id: string;
  type: string;
  comment?: string;
  /** The first state of its scope. */
  start?: boolean;
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

function scopeOf(states: Record<string, AslState>, startAt: string | undefined, top: boolean): GraphScope {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  if (top) nodes.push({ id: START, type: 'Start' });
  if (top && startAt) edges.push({ from: START, to: startAt, kind: 'next' });
  let ends = false;
  for (const [name, s] of Object.entries(states ?? {})) {
    if (!s || typeof s !== 'object') continue;
    const type = str(s.Type) ?? '?';
    const node: GraphNode = { id: name, type, ...(name === startAt ? { start: true } : {}) };
    const comment = str(s.Comment);
    if (comment) node.comment = comment;
    const processor = (s.ItemProcessor ?? s.Iterator) as {
      States?: Record<string, AslState>;
      StartAt?: string;
    };
    if (processor?.States) node.children = [scopeOf(processor.States, processor.StartAt, false)];
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
        const errors = Array.isArray(c.ErrorEquals) ? c.ErrorEquals.filter((e) => typeof e === 'string') : [];
        if (to) edges.push({ from: name, to, kind: 'catch', label: errors.join(', ') });
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
 * The project's definition file, parsed. Its substitutions (`${Name}`, e.g. the Map's unquoted
 * MaxConcurrency) are replaced by placeholders: only the states and transitions matter here,
 * and no function ARN reaches a page.
 */
export function readDefinition(file = ASL_PATH): Record<string, unknown> {
  const text = readFileSync(file, 'utf8').replace(/"\$\{[A-Za-z0-9_]+\}"|\$\{[A-Za-z0-9_]+\}/g, '0');
  return JSON.parse(text) as Record<string, unknown>;
}
