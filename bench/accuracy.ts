/**
 * Accuracy benchmark: `npm run bench:accuracy -- <data> [--json]`.
 *
 * <data> is either a folder laid out `<name>/*.{jpg,png,webp}` (leave-one-out identification:
 * each image against all others; verification over all pairs), or an LFW-style pairs file
 * `file_x,file_y,Decision` (Yes/No; images in the file's folder or --images).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { loadConfig, type EngineConfig } from '../functions/config.js';
import { createFaceEngine, type AnalyzeOptions, type FaceEngine } from '../functions/core/faces/engine.js';
import { descriptorDistance } from '../functions/core/faces/describe.js';
import { DESCRIPTORS } from '../functions/core/faces/descriptors/registry.js';
import { pickMainFace } from '../functions/core/gallery/enroll.js';
import { listPeopleFolder } from '../cli/lib/people-folder.js';
import {
  accuracyAt,
  bestThreshold,
  crossValidatedThreshold,
  foldedAccuracy,
  rocAuc,
  type FoldedDistance,
  type LabelledPair,
  type PairDistance,
} from './metrics.js';

interface Described {
  file: string;
  person: string;
  descriptor: Float32Array | null;
  reason?: string;
}

async function describe(
  engine: FaceEngine,
  file: string,
  person: string,
  options: AnalyzeOptions = {},
): Promise<Described> {
  try {
    const analysis = await engine.analyzeFaces(await readFile(file), options);
    const pick = pickMainFace(analysis.faces, analysis.width, analysis.height);
    return pick.face
      ? { file, person, descriptor: pick.face.descriptor }
      : { file, person, descriptor: null, reason: pick.reason };
  } catch (err) {
    return { file, person, descriptor: null, reason: (err as Error).message };
  }
}

function verification(pairs: PairDistance[], threshold: number) {
  const best = bestThreshold(pairs);
  return {
    pairs: pairs.length,
    samePairs: pairs.filter((p) => p.same).length,
    accuracyAtThreshold: accuracyAt(pairs, threshold),
    bestThreshold: best.threshold,
    bestThresholdAccuracy: best.accuracy,
    auc: rocAuc(pairs),
  };
}

async function folderBenchmark(engine: FaceEngine, dir: string, threshold: number) {
  const people = await listPeopleFolder(dir);
  const items: Described[] = [];
  for (const p of people) for (const f of p.files) items.push(await describe(engine, f, p.name));
  const usable = items.filter((i) => i.descriptor);
  // Leave-one-out identification: the nearest of all other images names the face.
  let correct = 0;
  let correctNearest = 0;
  const errors: string[] = [];
  for (const probe of items) {
    if (!probe.descriptor) {
      errors.push(`${path.relative(dir, probe.file)}: ${probe.reason}`);
      continue;
    }
    let best: { person: string; distance: number } | null = null;
    for (const other of usable) {
      if (other === probe) continue;
      const distance = descriptorDistance(
        DESCRIPTORS[engine.config.descriptor].metric,
        probe.descriptor,
        other.descriptor!,
      );
      if (!best || distance < best.distance) best = { person: other.person, distance };
    }
    const predicted = best && best.distance <= threshold ? best.person : 'Unknown';
    if (best?.person === probe.person) correctNearest++;
    if (predicted === probe.person) correct++;
    else
      errors.push(
        `${path.relative(dir, probe.file)}: identified as ${predicted} (nearest ${best?.person} at ${best?.distance.toFixed(3)})`,
      );
  }
  const pairs: LabelledPair[] = [];
  for (let i = 0; i < usable.length; i++) {
    for (let j = i + 1; j < usable.length; j++) {
      pairs.push({
        distance: descriptorDistance(
          DESCRIPTORS[engine.config.descriptor].metric,
          usable[i].descriptor!,
          usable[j].descriptor!,
        ),
        same: usable[i].person === usable[j].person,
        people: [usable[i].person, usable[j].person],
      });
    }
  }
  const same = pairs.filter((p) => p.same).map((p) => p.distance);
  const diff = pairs.filter((p) => !p.same).map((p) => p.distance);
  return {
    layout: 'folder',
    people: people.length,
    images: items.length,
    imagesWithoutFace: items.length - usable.length,
    identification: { correct, total: items.length, correctNearestIgnoringThreshold: correctNearest },
    verification: verification(pairs, threshold),
    calibration: crossValidatedThreshold(pairs, threshold),
    distances: {
      sameMax: Math.max(...same),
      sameMean: same.reduce((a, b) => a + b, 0) / same.length,
      differentMin: Math.min(...diff),
      differentMean: diff.reduce((a, b) => a + b, 0) / diff.length,
    },
    errors,
  };
}

/** `enrollX`: file_x is described as a gallery photo (AnalyzeOptions.enrollment), file_y as a frame's face.
 * A 4th column `fold` (LFW's view 2 layout) adds the 10-fold protocol figure. */
async function pairsBenchmark(
  engine: FaceEngine,
  file: string,
  imagesDir: string,
  threshold: number,
  enrollX: boolean,
) {
  const lines = (await readFile(file, 'utf8')).split(/\r?\n/).filter((l) => l.trim());
  const header = lines[0].toLowerCase();
  const rows = (header.includes('decision') || header.includes('file') ? lines.slice(1) : lines).map((l) =>
    l.split(',').map((s) => s.trim()),
  );
  const cache = new Map<string, Described>();
  const get = async (name: string, enrollment: boolean) => {
    const key = `${enrollment}\n${name}`;
    if (!cache.has(key))
      cache.set(key, await describe(engine, path.resolve(imagesDir, name), '', { enrollment }));
    return cache.get(key)!;
  };
  const pairs: PairDistance[] = [];
  const errors: string[] = [];
  /** Scored rows decided wrong at the threshold: the hard cases, named. */
  const wrong: string[] = [];
  /** Every row with its distance (null: no usable face), in file order. */
  const scored: (FoldedDistance & { x: string; y: string })[] = [];
  for (const [x, y, decision, fold] of rows) {
    const [a, b] = [await get(x, enrollX), await get(y, false)];
    const same = /^y(es)?$/i.test(decision);
    if (!a.descriptor || !b.descriptor) {
      errors.push(`${x},${y}: ${a.reason ?? b.reason}`);
      scored.push({ x, y, same, fold: fold ?? '', distance: null });
      continue;
    }
    const pair = {
      distance: descriptorDistance(DESCRIPTORS[engine.config.descriptor].metric, a.descriptor, b.descriptor),
      same,
    };
    scored.push({ x, y, same, fold: fold ?? '', distance: pair.distance });
    pairs.push(pair);
    if (pair.distance <= threshold !== pair.same)
      wrong.push(`${x},${y},${decision}: distance ${pair.distance.toFixed(3)}`);
  }
  // Every row is scored: a pair without a usable face is a wrong decision, never dropped.
  const v = verification(pairs, threshold);
  const rightAtThreshold = Math.round(v.accuracyAtThreshold * pairs.length);
  const folded = rows.length && rows.every((r) => r[3]) ? foldedAccuracy(scored) : undefined;
  return {
    layout: 'pairs',
    ...(folded ? { tenFold: folded } : {}),
    scored,
    rows: rows.length,
    unusableRows: errors.length,
    coverage: rows.length ? pairs.length / rows.length : NaN,
    accuracyOverAllRows: rows.length ? rightAtThreshold / rows.length : NaN,
    verification: v,
    wrong,
    errors,
  };
}

const program = new Command('bench:accuracy')
  .argument('<data>', 'a people folder (<name>/*.jpg) or a pairs CSV (file_x,file_y,Decision)')
  .option('--images <dir>', 'folder of the images named in a pairs file (default: its folder)')
  .option('--threshold <n>', 'match threshold (default: the configured one)', parseFloat)
  .option('--alignment <method>', 'dlib-chip or landmark-box')
  .option('--no-mirror', 'do not average with the mirrored chip')
  .option(
    '--enroll-x',
    "pairs file: describe file_x as enrollment does (the gallery's views), file_y as a frame",
  )
  .option('--distances', "pairs file: print every row's distance (file_x,file_y,Decision,fold,distance)")
  .option('--json', 'print one JSON object as the last line')
  .action(
    async (
      data: string,
      opts: {
        images?: string;
        threshold?: number;
        alignment?: EngineConfig['alignment'];
        mirror: boolean;
        enrollX?: boolean;
        distances?: boolean;
        json?: boolean;
      },
    ) => {
      const base = loadConfig().engine;
      const config: EngineConfig = {
        ...base,
        alignment: opts.alignment ?? base.alignment,
        mirrorDescriptor: opts.mirror && base.mirrorDescriptor,
        matchThreshold: opts.threshold ?? base.matchThreshold,
      };
      const engine = await createFaceEngine(config);
      const isDir = (await stat(data)).isDirectory();
      const result = isDir
        ? await folderBenchmark(engine, data, config.matchThreshold)
        : await pairsBenchmark(
            engine,
            data,
            opts.images ?? path.dirname(data),
            config.matchThreshold,
            Boolean(opts.enrollX),
          );
      const summary = {
        data,
        modelId: engine.modelId,
        threshold: config.matchThreshold,
        ...(opts.enrollX ? { enrollX: engine.enrollmentRecipe } : {}),
        ...result,
      };
      const v = result.verification;
      if ('identification' in result) {
        const id = result.identification;
        console.log(
          `leave-one-out identification: ${id.correct}/${id.total} (nearest ignoring threshold: ${id.correctNearestIgnoringThreshold})`,
        );
      }
      if ('coverage' in result) {
        if (opts.enrollX)
          console.log(`file_x described as enrolled photos (${engine.enrollmentRecipe}), file_y as frames`);
        console.log(
          `pairs: ${result.rows} rows, ${result.rows - result.unusableRows} with a usable face in both images ` +
            `(coverage ${(result.coverage * 100).toFixed(2)}%)`,
        );
        console.log(
          `  accuracy over ALL rows at threshold ${config.matchThreshold} (unusable rows count as errors): ` +
            `${(result.accuracyOverAllRows * 100).toFixed(2)}%`,
        );
      } else {
        console.log(
          `images: ${result.images}, with a usable face ${result.images - result.imagesWithoutFace} ` +
            `(coverage ${(((result.images - result.imagesWithoutFace) / result.images) * 100).toFixed(2)}%)`,
        );
      }
      console.log(`verification over ${v.pairs} pairs (${v.samePairs} same-person):`);
      console.log(
        `  accuracy at threshold ${config.matchThreshold}: ${(v.accuracyAtThreshold * 100).toFixed(2)}%`,
      );
      console.log(
        `  best threshold ${v.bestThreshold.toFixed(3)}: ${(v.bestThresholdAccuracy * 100).toFixed(2)}%`,
      );
      console.log(`  AUC: ${v.auc.toFixed(5)}`);
      if ('distances' in result) {
        const d = result.distances;
        console.log(
          `  same-person distance max ${d.sameMax.toFixed(3)} mean ${d.sameMean.toFixed(3)}; different-person min ${d.differentMin.toFixed(3)} mean ${d.differentMean.toFixed(3)}`,
        );
      }
      if ('calibration' in result) {
        const c = result.calibration;
        console.log(
          `threshold calibration, leave-one-person-out (${c.folds} folds): calibrated ${(c.calibratedAccuracy * 100).toFixed(2)}% ` +
            `vs fixed ${config.matchThreshold}: ${(c.fixedAccuracy * 100).toFixed(2)}% (chosen thresholds ${c.thresholdRange.map((t) => t.toFixed(3)).join('..')}, median ${c.medianThreshold.toFixed(3)})`,
        );
      }
      if ('tenFold' in result && result.tenFold) {
        const t = result.tenFold;
        console.log(
          `10-fold protocol (each fold at the threshold best on the other nine; unusable rows wrong): ` +
            `${(t.mean * 100).toFixed(2)}% +/- ${(t.sd * 100).toFixed(2)}% (folds ${t.folds.map((f) => (f.accuracy * 100).toFixed(1)).join(' ')}; thresholds ${t.folds.map((f) => f.threshold.toFixed(3)).join(' ')})`,
        );
      }
      if ('scored' in result && opts.distances) {
        console.log('file_x,file_y,Decision,fold,distance');
        for (const r of result.scored)
          console.log(`${r.x},${r.y},${r.same ? 'Yes' : 'No'},${r.fold},${r.distance?.toFixed(6) ?? ''}`);
      }
      if ('wrong' in result) {
        console.log(`wrong at threshold ${config.matchThreshold}: ${result.wrong.length} scored row(s)`);
        for (const w of result.wrong) console.log(`  x ${w}`);
      }
      for (const e of result.errors) console.log(`  ! ${e}`);
      if (opts.json) console.log(JSON.stringify(summary));
    },
  );

await program.parseAsync();
