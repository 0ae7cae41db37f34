/**
 * The state machine definition with its substitutions applied, as CloudFormation does with
 * DefinitionSubstitutions: a textual `${Name}` replacement, then JSON. Local mode, the console and
 * the ASL tests run exactly the file that is deployed. (What the local service reads from the
 * loaded definition, and the copy its interpreter runs: task-states.ts.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ASL_FACTS,
  ASL_PLACEHOLDERS,
  EVENT_BUS_NAME,
  type AslDeploymentPlaceholder,
  type AslPlaceholder,
} from '../../../functions/core/facts.js';

export const ASL_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../statemachine/pipeline.asl.json',
);

/** A value for each of the definition's deployment placeholders (core/facts.ts
 * ASL_DEPLOYMENT_PLACEHOLDERS); the others are facts (ASL_FACTS), the same everywhere. */
export type Substitutions = Record<AslDeploymentPlaceholder, string | number>;

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

/** The definition's text with the deployment's values and the facts (core/facts.ts ASL_FACTS,
 * which the CDK stack passes as DefinitionSubstitutions too) put in. */
export function substitute(text: string, deployment: Substitutions): string {
  const subs: Record<AslPlaceholder, string | number> = { ...ASL_FACTS, ...deployment };
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

/** The text with only the facts put in (ASL_FACTS), the deployment's placeholders left as they
 * are: what the console shows and draws, which knows no function ARN. */
export function fillFacts(text: string): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, name: string) =>
    name in ASL_FACTS ? ASL_FACTS[name as keyof typeof ASL_FACTS] : m,
  );
}

export function loadDefinition(subs: Substitutions, file = ASL_PATH): Record<string, unknown> {
  return JSON.parse(substitute(readFileSync(file, 'utf8'), subs)) as Record<string, unknown>;
}
