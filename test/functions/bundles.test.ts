/**
 * functions/ holds what the Lambda bundles need and nothing else (CLI-only code lives in cli/,
 * the reconciler in infra/reconcile/): every module under functions/ is reached by at least one
 * of the four handlers, and no handler reaches past functions/ into cli/, infra/, bench/, test/
 * or models/ (the build step; the model contract the engine reads is functions/core/faces/
 * model-manifest.ts). One exception: the gallery module keeps its writing side beside its reading
 * side (functions/core/gallery/), and that side, which only `facerec enroll` and `facerec gallery`
 * run, must stay out of every bundle.
 */
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { FUNCTION_NAMES } from '#functions/core/facts.js';

/** The gallery's writing side: run by the CLI, never by a function. */
const CLI_ONLY = [
  'functions/core/gallery/enroll-journal.ts',
  'functions/core/gallery/enroll.ts',
  'functions/core/gallery/write.ts',
];

test('every module under functions/ but the gallery writing side is in a Lambda bundle, and bundles import nothing outside functions/', async () => {
  const reached = new Map<string, string[]>();
  for (const fn of FUNCTION_NAMES) {
    const result = await build({
      entryPoints: [`functions/${fn}/handler.ts`],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      // Native and AWS packages: what a bundle takes from node_modules does not matter here.
      packages: 'external',
    });
    reached.set(fn, Object.keys(result.metafile.inputs));
  }
  const inputs = new Set([...reached.values()].flat());
  const outside = [...inputs].filter((f) => !f.startsWith('functions/'));
  expect(outside).toEqual([]);
  const modules = execFileSync('git', ['ls-files', 'functions'], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.ts'));
  expect(modules.length).toBeGreaterThan(30);
  expect(modules.filter((f) => !inputs.has(f))).toEqual(CLI_ONLY);
  expect(CLI_ONLY.filter((f) => inputs.has(f))).toEqual([]);
}, 60_000);
