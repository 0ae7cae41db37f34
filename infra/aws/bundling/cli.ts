/**
 * Builds one function's bundle from the command line; functions/Dockerfile runs it (for the
 * function its FUNCTION build argument names) so the container images hold exactly what the zip
 * would.
 *
 *   npx tsx infra/aws/bundling/cli.ts <starter|splitter|recognition|result> <outDir>
 *       [--gallery path/to/gallery.json] [--models models/generated] [--arch x64|arm64]
 *       [--package-cache dir]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { FUNCTION_NAMES, type FunctionName } from '../../../functions/core/facts.js';
import { bundleSpecFor } from '../functions.js';
import { bundleFunction, formatBreakdown, formatMB } from './bundle.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    gallery: { type: 'string' },
    models: { type: 'string' },
    arch: { type: 'string', default: 'x64' },
    'package-cache': { type: 'string' },
  },
});
const [name, outDir] = positionals;
if (!FUNCTION_NAMES.includes(name as FunctionName) || !outDir || !['x64', 'arm64'].includes(values.arch!)) {
  process.stderr.write(
    `usage: cli.ts <${FUNCTION_NAMES.join('|')}> <outDir> [--gallery file] [--models dir] [--arch x64|arm64] [--package-cache dir]\n`,
  );
  process.exit(2);
}

try {
  const spec = bundleSpecFor(name as FunctionName, {
    projectRoot,
    arch: values.arch as 'x64' | 'arm64',
    modelsDir: values.models ? path.resolve(values.models) : undefined,
    galleryFile: values.gallery ? path.resolve(values.gallery) : undefined,
    packageCache: values['package-cache'] ? path.resolve(values['package-cache']) : undefined,
  });
  const report = bundleFunction(spec, path.resolve(outDir));
  process.stdout.write(`${name}: ${formatMB(report.totalBytes)} unzipped\n${formatBreakdown(report)}\n`);
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
}
