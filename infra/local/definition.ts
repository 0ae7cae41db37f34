/**
 * The state machine definition with its substitutions applied, as CloudFormation does with
 * DefinitionSubstitutions: a textual `${Name}` replacement, then JSON. Local mode and the ASL
 * tests run exactly the file that is deployed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ASL_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../statemachine/pipeline.asl.json',
);

export interface Substitutions {
  SplitterFunctionArn: string;
  RecognitionFunctionArn: string;
  ResultFunctionArn: string;
  MapMaxConcurrency: number;
  /** The EventBridge bus of the per-video events (`default` on AWS and in local mode). */
  EventBusName: string;
}

export function substitute(text: string, subs: Substitutions): string {
  const used = new Set<string>();
  const out = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, name: string) => {
    if (!(name in subs)) throw new Error(`${ASL_PATH}: no value for substitution ${m}`);
    used.add(name);
    return String(subs[name as keyof Substitutions]);
  });
  const unused = Object.keys(subs).filter((k) => !used.has(k));
  if (unused.length)
    throw new Error(`${ASL_PATH}: substitutions not used by the definition: ${unused.join(', ')}`);
  return out;
}

export function loadDefinition(subs: Substitutions, file = ASL_PATH): Record<string, unknown> {
  return JSON.parse(substitute(readFileSync(file, 'utf8'), subs)) as Record<string, unknown>;
}
