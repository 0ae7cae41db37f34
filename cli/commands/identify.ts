/** `facerec identify <images or folders...> --gallery <file>`: who is in these images (no AWS, no stack). */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { readGallery } from '../../functions/core/gallery/read.js';
import { annotateImage } from '../lib/annotate.js';
import { UNKNOWN } from '../../functions/core/faces/types.js';
import { openEngine, withEngineOptions, type EngineFlags } from '../lib/engine-options.js';
import { expandImagePaths } from '../lib/image-paths.js';
import { IMAGE_EXTENSIONS } from '../lib/people-folder.js';
import { describeError, EXIT } from '../lib/errors.js';
import { printable } from '../../functions/core/printable.js';

interface IdentifyFlags extends EngineFlags {
  gallery: string;
  annotate?: string;
  json?: boolean;
}

async function runIdentify(paths: string[], flags: IdentifyFlags): Promise<number> {
  const { files, missing } = await expandImagePaths(paths);
  let failed = 0;
  for (const m of missing) {
    failed++;
    if (flags.json) console.log(JSON.stringify({ file: m.path, error: m.error }));
    else console.error(printable(`${m.path}: ${m.error}`));
  }
  if (files.length === 0) {
    console.error(printable(`no image (${[...IMAGE_EXTENSIONS].join(', ')}) in ${paths.join(', ')}`));
    return EXIT.usage;
  }
  if (!existsSync(flags.gallery)) {
    console.error(printable(`--gallery ${flags.gallery}: no such file (make one with \`facerec enroll\`)`));
    return EXIT.usage;
  }
  const engine = await openEngine(flags);
  const gallery = await readGallery(flags.gallery, engine.modelId);
  const annotatedNames = new Map<string, number>();
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
      const result = await engine.identifyFaces(bytes, gallery);
      const faces = result.faces.map((f) => ({
        name: f.name,
        distance: f.distance === null ? null : Number(f.distance.toFixed(4)),
        score: Number(f.score.toFixed(3)),
        box: Object.fromEntries(Object.entries(f.box).map(([k, v]) => [k, Math.round(v)])),
      }));
      let annotated: string | undefined;
      if (flags.annotate) {
        await mkdir(flags.annotate, { recursive: true });
        // Folders may hold the same file name twice (a/x.jpg, b/x.jpg): never overwrite.
        const name = path.parse(file).name;
        const taken = (annotatedNames.get(name) ?? 0) + 1;
        annotatedNames.set(name, taken);
        annotated = path.join(flags.annotate, `${name}${taken > 1 ? `-${taken}` : ''}.annotated.jpg`);
        const marks = result.faces.map((f) => ({
          box: f.box,
          landmarks: f.landmarks,
          known: f.name !== UNKNOWN,
          label: `${f.name}${f.distance === null ? '' : ` ${f.distance.toFixed(2)}`}`,
        }));
        await writeFile(annotated, await annotateImage(bytes, marks));
      }
      if (flags.json)
        console.log(JSON.stringify({ file, width: result.width, height: result.height, faces, annotated }));
      else {
        console.log(printable(`${file}: ${faces.length} face(s)${annotated ? ` -> ${annotated}` : ''}`));
        for (const f of faces)
          console.log(
            `  ${printable(f.name).padEnd(20)} distance ${f.distance ?? '-'}  score ${f.score}  box ${JSON.stringify(f.box)}`,
          );
      }
    } catch (err) {
      failed++;
      if (flags.json) console.log(JSON.stringify({ file, error: describeError(err) }));
      else console.error(printable(`${file}: ${describeError(err)}`));
    }
  }
  return failed ? EXIT.failed : EXIT.done;
}

export function registerIdentify(program: Command): void {
  withEngineOptions(
    program
      .command('identify')
      .description('find and name the faces in images, against a gallery')
      .argument('<images...>', 'image files, or folders of images (sub-folders included)')
      .requiredOption('--gallery <file>', 'gallery made with `facerec enroll`')
      .option('--annotate <dir>', 'write each image with boxes, landmarks and names into this folder')
      .option('--json', 'one JSON line per image'),
  ).action(async (files: string[], flags: IdentifyFlags) => {
    process.exitCode = await runIdentify(files, flags);
  });
}
