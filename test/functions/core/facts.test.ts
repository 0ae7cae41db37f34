import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '#functions/config.js';
import {
  ASL_PLACEHOLDERS,
  BUCKET_PREFIX_PATTERN,
  ERROR_NAMES,
  FUNCTION_TIMEOUT_SECONDS,
  taskTimeoutSeconds,
  type FunctionName,
} from '#functions/core/facts.js';
import { bucketNames } from '#functions/core/layout.js';
import { ASL_PATH, loadDefinition, pipelineSubstitutions } from '#infra/local/sfn/load-definition.js';
import { readSettings } from '#infra/aws/settings.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** The source files under `dirs` (relative to the repository root, where jest runs). */
function sourceFiles(dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(?:ts|js|mjs)$/.test(f))
      .map((f) => path.join(dir, f)),
  );
}
describe('core/facts.ts', () => {
  test('every Lambda Task of the ASL allows at least its function timeout', () => {
    const def = loadDefinition(
      pipelineSubstitutions({ splitter: 'S', recognition: 'R', result: 'O', mapMaxConcurrency: 1 }),
    ) as any;
    const byArn: Record<string, FunctionName> = { S: 'splitter', R: 'recognition', O: 'result' };
    const tasks: Array<{ fn: FunctionName; timeout: number }> = [];
    const walk = (states: Record<string, any>) => {
      for (const s of Object.values(states)) {
        const fn = byArn[s.Resource as string];
        if (fn) tasks.push({ fn, timeout: s.TimeoutSeconds as number });
        if (s.ItemProcessor) walk(s.ItemProcessor.States);
      }
    };
    walk(def.States);
    expect(new Set(tasks.map((t) => t.fn))).toEqual(new Set(['splitter', 'recognition', 'result']));
    for (const t of tasks) {
      // Longer, so that the function's own timeout (a classified error) comes first.
      expect(t.timeout).toBe(taskTimeoutSeconds(t.fn));
      expect(t.timeout).toBeGreaterThan(FUNCTION_TIMEOUT_SECONDS[t.fn]);
    }
  });

  test('every Facerec.* error name of the ASL and of the code is one of ERROR_NAMES', () => {
    const known = new Set<string>(Object.values(ERROR_NAMES));
    const def = JSON.stringify(
      loadDefinition(
        pipelineSubstitutions({ splitter: 'S', recognition: 'R', result: 'O', mapMaxConcurrency: 1 }),
      ),
    );
    const inAsl = [...def.matchAll(/Facerec\.[A-Za-z]+/g)].map((m) => m[0]);
    expect(inAsl).toContain(ERROR_NAMES.Transient);
    for (const name of inAsl) expect(known).toContain(name);
    // The code names them through the list only: no `'Facerec.X'` literal outside core/facts.ts.
    const literal = /['"`]Facerec\.[A-Za-z]+['"`]/;
    const withLiterals = sourceFiles(['functions', 'infra', 'cli']).filter(
      (f) => f !== path.join('functions', 'core', 'facts.ts') && literal.test(readFileSync(f, 'utf8')),
    );
    expect(withLiterals).toEqual([]);
  });

  test('the ASL uses exactly the listed placeholders', () => {
    const text = readFileSync(ASL_PATH, 'utf8');
    const used = new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
    expect(used).toEqual(new Set(ASL_PLACEHOLDERS));
  });

  test('one bucket-prefix rule for the functions and a literal deployment prefix', () => {
    for (const prefix of ['cse546-team7', 'a.b', 'ab']) {
      expect(BUCKET_PREFIX_PATTERN.test(prefix)).toBe(true);
      expect(loadConfig({ FACEREC_BUCKET_PREFIX: prefix }).pipeline.buckets).toEqual(bucketNames(prefix));
      expect(readSettings((k) => (k === 'prefix' ? prefix : undefined)).prefix).toBe(prefix);
    }
    for (const prefix of ['Team7', '-x', 'x', 'a'.repeat(49), 'a_b']) {
      expect(BUCKET_PREFIX_PATTERN.test(prefix)).toBe(false);
      expect(() => loadConfig({ FACEREC_BUCKET_PREFIX: prefix })).toThrow();
      expect(() => readSettings((k) => (k === 'prefix' ? prefix : undefined))).toThrow(/prefix/);
    }
  });
});
