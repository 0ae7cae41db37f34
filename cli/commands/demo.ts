/**
 * `facerec demo` (`npm start`): the whole pipeline on this machine, with nothing to prepare. Builds a gallery and
 * sample videos from the demo photos of @vladmandic/face-api (an npm dependency), runs them
 * through the local stack (S3 server, Step Functions endpoint, the four functions), and shows
 * the results, where they are, and how to do the same with your own people and videos.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../functions/config.js';
import { createFaceEngine } from '../../functions/core/faces/engine.js';
import { resolveFfmpeg } from '../../functions/core/ffmpeg/binary.js';
import { printable } from '../../functions/core/printable.js';
import { buildDemoData } from '../lib/demo-data.js';
import { peopleCell } from '../lib/people-text.js';
import { seconds, table } from '../lib/history.js';
import { preflight } from '../lib/local-stack.js';
import { collectVideos, downloadOutputs, runVideos } from '../lib/pipeline-run.js';
import { progressPrinter } from '../lib/progress.js';
import { resolveTarget } from '../lib/target.js';

const say = (s = '') => console.log(s);

async function demoCommand(): Promise<number> {
  const config = loadConfig();
  const p = config.pipeline;
  const demoDir = path.join(p.local.dir, 'demo');
  const rel = (f: string) => path.relative(process.cwd(), f) || '.';
  say('facerec demo: face recognition on videos, through the same pipeline that runs on AWS,');
  say('here on this machine (a local S3 server and a local Step Functions endpoint).');
  say();

  await preflight({ ...config, galleryPath: undefined });
  say('1. Making a gallery and videos from the demo photos of @vladmandic/face-api');
  const engine = await createFaceEngine(config.engine);
  const ffmpeg = resolveFfmpeg({ explicitPath: p.ffmpeg.path, searchPath: p.ffmpeg.searchPath });
  const data = await buildDemoData(engine, ffmpeg.path, demoDir, (line) => say(`   ${line}`));
  say('   (people are named after their photo and their place from the left: sample3-face2)');
  say();

  say('2. Starting the local stack and uploading the videos to its input bucket');
  const target = await resolveTarget(
    {},
    {
      local: 'start',
      stateMachine: 'required',
      stack: { gallery: data.galleryPath, profile: 'default', logLevel: 'ERROR' },
    },
  );
  const { stack } = target;
  const info = target.local!;
  say(`   S3 ${info.s3Endpoint} · Step Functions ${info.sfnEndpoint} · ${info.ffmpeg}`);
  if (!stack) say(`   (using the stack that \`facerec up\` runs, pid ${info.pid})`);
  const videos = await collectVideos([data.videosDir], p.video.extensions, 'demo/');
  const progress = progressPrinter(true);
  let report;
  try {
    report = await runVideos({ videos, target, timeoutSec: 600, onProgress: (x) => progress.update(x) });
  } finally {
    progress.done();
  }
  const outDir = path.join(demoDir, 'outputs');
  await downloadOutputs(report, outDir);
  await target.close();
  say();

  say('3. Results');
  let asExpected = 0;
  const rows = report.results.map((r) => {
    const file = path.basename(r.key);
    const exp = data.expected[file];
    // A video of several people: everyone in it recognized, nobody else; of one: that name.
    const everyone = (r.result?.people ?? []).map((p) => p.name).sort();
    const ok = exp
      ? exp.fails
        ? r.status === 'FAILED'
        : r.status === 'SUCCEEDED' &&
          (exp.names.length > 1
            ? JSON.stringify(everyone) === JSON.stringify([...exp.names].sort())
            : exp.names.includes(r.name ?? ''))
      : false;
    if (ok) asExpected++;
    return [
      ok ? 'ok' : 'MISS',
      file,
      r.status === 'SUCCEEDED'
        ? r.result
          ? peopleCell(r.result)
          : (r.name ?? '?')
        : `${r.status} (${r.error ?? ''})`,
      r.faces === undefined ? '-' : String(r.faces),
      r.frames === undefined ? '-' : String(r.frames),
      seconds(r.seconds === undefined ? undefined : r.seconds * 1000),
      exp?.about ?? '',
    ];
  });
  say(table(['', 'video', 'people', 'faces', 'frames', 's', 'what it shows'], rows).replace(/^/gm, '   '));
  say();
  say(
    `   ${asExpected}/${report.results.length} as expected; ${report.wallSeconds.toFixed(1)} s from the first upload ` +
      `to the last result.`,
  );
  const broken = report.results.find((r) => r.status === 'FAILED');
  if (broken?.reason) say(printable(`   ${path.basename(broken.key)} failed on purpose: ${broken.reason}`));
  say();
  say('Where things are');
  say(
    `   outputs, copied:   ${rel(outDir)}/demo/<video>.txt (everyone, one name a line), <video>.json (who appears when, frames, faces),`,
  );
  say(`                      errors/demo/broken.json (the failure record)`);
  say(
    `   the buckets:       ${rel(info.dataDir)}/ (${p.buckets.input}, ${p.buckets.stage1}, ${p.buckets.output}, ${p.buckets.meta}:`,
  );
  say('                      files named by key hashes: read them with an S3 client or the web console)');
  say(`   gallery, people:   ${rel(data.galleryPath)}, ${rel(data.peopleDir)}/<name>/face.jpg`);
  say(`   videos:            ${rel(data.videosDir)}`);
  say();
  say('What this demo proved');
  say('   Each upload to the input bucket raised an S3 event that started one state machine execution');
  say('   (statemachine/pipeline.asl.json, the file deployed to AWS): the splitter took frames with ffmpeg');
  say('   into the stage-1 bucket, the recognition function found and named the faces (ONNX models, your');
  say('   gallery) batch by batch in a Map, and the result function voted and wrote <video>.txt. A broken');
  say('   upload ended as a failed execution with an error record, not silently. Same handlers, same');
  say('   definition as on AWS; only the endpoints and the way a task reaches a function differ.');
  say();
  say('Use your own people and videos');
  say(
    '   1. Photos of each person in a folder of their own:  people/<Name>/*.jpg  (a few each, one face per photo)',
  );
  say('   2. npx facerec enroll people --gallery gallery.json');
  say('   3. npx facerec run my-videos/ --gallery gallery.json          (a table; --json for scripts)');
  say('      or keep a stack running:  npx facerec up --gallery gallery.json   then upload to');
  say(`      s3://${p.buckets.input}/ with any S3 client, and watch:  npx facerec executions --watch`);
  say('      (`facerec up` also serves a web console on 127.0.0.1: graph, executions, annotated frames)');
  say('   The original CSE546 layout: add --profile cse546-p2 (one frame per video, <video>.txt only).');
  say('   Deploying to AWS: see docs/deploy.md.');
  return asExpected === report.results.length ? 0 : 1;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the whole pipeline on this machine with demo people and videos (what `npm start` runs)')
    .action(async () => {
      try {
        process.exitCode = await demoCommand();
      } catch (err) {
        console.error(`demo failed: ${(err as Error).message}`);
        process.exitCode = 1;
      }
    });
}
