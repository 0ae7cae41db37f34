/**
 * The state machine definition with its substitutions applied, as CloudFormation does with
 * DefinitionSubstitutions: a textual `${Name}` replacement, then JSON. Local mode, the console and
 * the ASL tests run exactly the file that is deployed. (What the local service reads from the
 * loaded definition, and the copy its interpreter runs: task-states.ts.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ASL_PLACEHOLDERS, EVENT_BUS_NAME, type AslPlaceholder } from '../../../functions/core/facts.js';

export const ASL_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../statemachine/pipeline.asl.json',
);

/** A value for each of the definition's placeholders (core/facts.ts ASL_PLACEHOLDERS). */
export type Substitutions = Record<AslPlaceholder, string | number>;

/** The substitutions of the pipeline: the three function ARNs and the Map's concurrency; the
 * event bus is the same everywhere. */
export function pipelineSubstitutions(arns: {
  splitter: string;
  recognition: string;
  result: string;
  mapMaxConcurrency: number;
}): Substitutions {
  return {
    SplitterFunctionArn: arns.splitter,
    RecognitionFunctionArn: arns.recognition,
    ResultFunctionArn: arns.result,
    MapMaxConcurrency: arns.mapMaxConcurrency,
    EventBusName: EVENT_BUS_NAME,
  };
}

export function substitute(text: string, subs: Substitutions): string {
  const used = new Set<string>();
  const out = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, name: string) => {
    if (!(ASL_PLACEHOLDERS as readonly string[]).includes(name) || !(name in subs))
      throw new Error(`${ASL_PATH}: no value for substitution ${m}`);
    used.add(name);
    return String(subs[name as AslPlaceholder]);
  });
  const unused = Object.keys(subs).filter((k) => !used.has(k));
  if (unused.length)
    throw new Error(`${ASL_PATH}: substitutions not used by the definition: ${unused.join(', ')}`);
  return out;
}

export function loadDefinition(subs: Substitutions, file = ASL_PATH): Record<string, unknown> {
  return JSON.parse(substitute(readFileSync(file, 'utf8'), subs)) as Record<string, unknown>;
}
