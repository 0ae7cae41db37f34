/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * `npm run console:screenshots`: the console's pages as PNG files in docs/console/, made by
 * headless Chromium (/usr/bin/chromium) against a local stack running the demo's videos in a temp
 * folder (nothing is left behind), plus a report file. Prints each file with its size, and the
 * console's page weight.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { buildDemoData, demoPeople, personFrame, type DemoData } from '../cli/lib/demo-data.js';
import { buildReport } from '../cli/commands/report.js';
import { localConsoleTarget } from '../cli/console/console-target.js';
import {
  DAGRE_FILE,
  MORPHDOM_FILE,
  STATIC_DIR,
  startConsoleServer,
  VIEW_SCRIPTS,
} from '../cli/console/server.js';
import { ConsoleSource } from '../cli/console/source.js';
import { collectVideos, runVideos } from '../cli/lib/pipeline-run.js';
import { localTarget, closeTarget } from '../cli/lib/target.js';
import { loadConfig } from '../functions/config.js';
import { createFaceEngine } from '../functions/core/faces/engine.js';
import { startLocalStack } from '../infra/local/stack.js';
import { CHROMIUM, hasChromium, launchChromium } from '../test/support/chromium.js';
import { ffmpegPath, repoRoot, tempDir } from '../test/support/videos.js';
import type { FaceEngine } from '../functions/core/faces/engine.js';
import type { Browser } from '../test/support/chromium.js';

const OUT = path.join(repoRoot, 'docs/console');

/** PNG with a 256-colour palette: a fraction of the size, still sharp for text and lines. */
async function save(file: string, png: Buffer) {
  writeFileSync(file, await sharp(png).png({ palette: true, colours: 256, effort: 8 }).toBuffer());
}

const run = promisify(execFile);

/**
 * A long video's execution (docs/console/execution-long.png): a 12 s lecture (three people, 4 s
 * each) sampled 4 frames a second in 4 s segments, on a stack of its own: the segments' inline
 * Map, then the Distributed Map (48 frames are past the inline Map's payload), whose inner states
 * ran in the Map Run's child executions.
 */
async function longVideoShot(engine: FaceEngine, data: DemoData, work: string, browser: Browser) {
  const people = await demoPeople(engine);
  const byName = (n: string) => people.find((p) => p.name === n)!;
  const stills: string[] = [];
  for (const name of ['sample1-face1', 'sample4-face1', 'sample2-face2']) {
    const file = path.join(work, `long-${name}.png`);
    writeFileSync(file, await personFrame(byName(name), people, { factor: 2.1, width: 640, height: 480 }));
    stills.push(file);
  }
  const dir = path.join(work, 'long-videos');
  mkdirSync(dir);
  await run(ffmpegPath(), [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...stills.flatMap((f) => ['-loop', '1', '-t', '4', '-i', f]),
    '-filter_complex',
    '[0:v]setsar=1[a];[1:v]setsar=1[b];[2:v]setsar=1[c];[a][b][c]concat=n=3:v=1[v]',
    ...['-map', '[v]', '-r', '25', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast'],
    path.join(dir, 'lecture.mp4'),
  ]);
  const stack = await startLocalStack({
    env: {
      FACEREC_LOCAL_DIR: path.join(work, 'long-local'),
      FACEREC_LOCAL_S3_PORT: '0',
      FACEREC_LOCAL_SFN_PORT: '0',
      FACEREC_LOG_LEVEL: 'SILENT',
      FACEREC_GALLERY: data.galleryPath,
      FACEREC_SAMPLE: '4/s',
      FACEREC_SEGMENT_SECONDS: '4',
    },
  });
  const opened = localConsoleTarget(stack.info, { people: data.peopleDir });
  const server = await startConsoleServer({ source: new ConsoleSource(opened.target), port: 0 });
  const t = localTarget(stack.info);
  try {
    const videos = await collectVideos([dir], stack.config.pipeline.video.extensions);
    const report = await runVideos({ videos, target: t, timeoutSec: 600 });
    const arn = report.results[0]?.executionArn;
    if (report.results[0]?.status !== 'SUCCEEDED' || !arn)
      throw new Error(`the long video did not succeed: ${JSON.stringify(report.results[0])}`);
    const page = await browser.context.newPage();
    await page.goto(`${server.url}#/execution?arn=${encodeURIComponent(arn)}`);
    await page.waitForSelector('g.state[data-state="Recognize faces in batch"][data-status="CHILD"]', {
      timeout: 60_000,
    });
    // The frames above the graph are annotated on demand: let them load, so nothing moves while
    // the panel is captured.
    await page.waitForFunction(
      () =>
        document.querySelectorAll('figure.frame img').length > 0 &&
        [...document.querySelectorAll('img')].every((im) => im.complete),
      undefined,
      { timeout: 120_000 },
    );
    await page.click('g.state[data-state="Recognize faces at scale"] > text.state-name');
    await page.waitForSelector('.state-detail h3:has-text("Recognize faces at scale")');
    await page.locator('.graph-panel').scrollIntoViewIfNeeded();
    await save(path.join(OUT, 'execution-long.png'), await page.locator('.graph-panel').screenshot());
    console.log('docs/console/execution-long.png');
    await page.close();
  } finally {
    closeTarget(t);
    await server.close();
    opened.close();
    await stack.stop();
  }
}

async function main() {
  if (!hasChromium()) {
    console.error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    process.exit(2);
  }
  const work = tempDir('facerec-screens-');
  mkdirSync(OUT, { recursive: true });
  const engine = await createFaceEngine(loadConfig().engine);
  const data = await buildDemoData(engine, ffmpegPath(), path.join(work, 'demo'), (l) => console.log(l));
  const stack = await startLocalStack({
    env: {
      FACEREC_LOCAL_DIR: path.join(work, 'local'),
      FACEREC_LOCAL_S3_PORT: '0',
      FACEREC_LOCAL_SFN_PORT: '0',
      FACEREC_LOG_LEVEL: 'SILENT',
      FACEREC_GALLERY: data.galleryPath,
    },
  });
  const opened = localConsoleTarget(stack.info, { people: data.peopleDir });
  const server = await startConsoleServer({ source: new ConsoleSource(opened.target), port: 0 });
  const browser = await launchChromium({ width: 1360, height: 900 });
  try {
    const t = localTarget(stack.info);
    const videos = await collectVideos([data.videosDir], stack.config.pipeline.video.extensions);
    const report = await runVideos({ videos, target: t, timeoutSec: 300 });
    const arnOf = (key: string) => report.results.find((r) => r.key === key)?.executionArn;
    const page = await browser.context.newPage();
    const shot = async (name: string, url: string, ready: string, fullPage = true) => {
      await page.goto(url);
      await page.waitForSelector(ready, { timeout: 60_000 });
      await page.waitForFunction(() => [...document.querySelectorAll('img')].every((im) => im.complete));
      const file = path.join(OUT, `${name}.png`);
      await save(file, await page.screenshot({ fullPage }));
      console.log(`${path.relative(repoRoot, file)}  ${(statSync(file).size / 1024).toFixed(0)} KiB`);
    };
    const exec = (key: string) => `${server.url}#/execution?arn=${encodeURIComponent(arnOf(key)!)}`;

    // A video still running, caught in the list and in its graph.
    const group = readFileSync(path.join(data.videosDir, 'group.mp4'));
    await t.s3.send(
      new PutObjectCommand({ Bucket: t.buckets.input, Key: 'uploads/just-uploaded.mp4', Body: group }),
    );
    await shot('executions', server.url, 'tbody tr[data-status="RUNNING"]', false);
    await page.click('tbody tr[data-status="RUNNING"] td.video a');
    await page.waitForSelector('g.state[data-status="RUNNING"]', { timeout: 30_000 });
    await save(path.join(OUT, 'execution-running.png'), await page.screenshot({ fullPage: false }));
    console.log('docs/console/execution-running.png');
    await stack.idle();

    // First views, timed: the list, and an execution whose frames are annotated on demand.
    const timed = async (label: string, url: string, ready: () => boolean) => {
      const t0 = performance.now();
      await page.goto(url);
      await page.waitForFunction(ready, undefined, { timeout: 60_000, polling: 20 });
      console.log(`${label}: ${(performance.now() - t0).toFixed(0)} ms`);
    };
    await timed(
      `executions page (${report.results.length + 1} executions), load to table drawn`,
      server.url,
      () => !!document.querySelector('tbody tr[data-arn]'),
    );
    await timed(
      'execution page of group.mp4, load to all 10 annotated frames shown (first view)',
      exec('group.mp4'),
      () => {
        const imgs = [...document.querySelectorAll('figure.frame img')] as HTMLImageElement[];
        return imgs.length === 10 && imgs.every((im) => im.complete && im.naturalWidth > 0);
      },
    );

    await shot('state-machine', `${server.url}#/graph`, 'svg.graph');
    await shot('definition', `${server.url}#/definition`, '.definition .json-tree', false);
    await shot('execution-succeeded', exec('group.mp4'), 'figure.frame img');
    // The Map's iteration 1 chosen, its Recognize faces state selected, the table view.
    await page.selectOption('#iteration', '1');
    await page.click('g.state[data-state="Recognize faces"]');
    await page.waitForSelector('.state-detail h3:has-text("Recognize faces")');
    await page.locator('.graph-panel').scrollIntoViewIfNeeded();
    await save(path.join(OUT, 'execution-iteration.png'), await page.locator('.graph-panel').screenshot());
    console.log('docs/console/execution-iteration.png');
    await page.click('button[data-arg="table"]');
    await page.waitForSelector('table.states');
    await save(path.join(OUT, 'execution-table.png'), await page.locator('.graph-panel').screenshot());
    console.log('docs/console/execution-table.png');
    // The history filtered to the failures' events, one row opened.
    await page.fill('#events-filter', 'Recognize faces');
    await page.click('table.events tr.event-row >> nth=2');
    await page.waitForSelector('tr.event-details .json-tree');
    await save(path.join(OUT, 'execution-events.png'), await page.locator('.events-panel').screenshot());
    console.log('docs/console/execution-events.png');
    await shot('execution-failed', exec('broken.mp4'), '.execution[data-status="FAILED"] .error-record');
    await shot('gallery', `${server.url}#/gallery`, '.card img');
    // 800 px wide: the list and an execution, no sideways scroll.
    await page.setViewportSize({ width: 800, height: 900 });
    await shot('executions-800', server.url, 'tbody tr[data-arn]', false);
    await shot('execution-800', exec('group.mp4'), 'figure.frame img', false);
    await page.setViewportSize({ width: 1360, height: 900 });

    const { html } = await buildReport('group.mp4', { out: '' }, localConsoleTarget(stack.info));
    const reportFile = path.join(work, 'group.report.html');
    writeFileSync(reportFile, html);
    await shot('report', `file://${reportFile}`, 'figure.frame img');
    console.log(`report of group.mp4: ${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB (self-contained)`);
    const failed = await buildReport('broken.mp4', { out: '' }, localConsoleTarget(stack.info));
    const failedFile = path.join(work, 'broken.report.html');
    writeFileSync(failedFile, failed.html);
    await shot('report-failed', `file://${failedFile}`, '.error-record', false);

    const files = ['index.html', 'console.css', 'app.js', ...VIEW_SCRIPTS];
    const own = files.map((f) => statSync(path.join(STATIC_DIR, f)).size).reduce((a, b) => a + b, 0);
    const vendored = statSync(DAGRE_FILE).size + statSync(MORPHDOM_FILE).size;
    console.log(
      `console page weight: ${((own + vendored) / 1024).toFixed(1)} KiB of HTML, CSS and script (${files.length} files of ours ${(own / 1024).toFixed(1)} KiB; dagre ${(statSync(DAGRE_FILE).size / 1024).toFixed(1)} KiB, morphdom ${(statSync(MORPHDOM_FILE).size / 1024).toFixed(1)} KiB), uncompressed`,
    );
    await longVideoShot(engine, data, work, browser);
    // `facerec up` stops (its console with it): the page says so.
    await page.goto(server.url);
    await page.waitForSelector('tbody tr[data-arn]');
    await server.close();
    await page.waitForSelector('#banner:not([hidden])', { timeout: 30_000 });
    await save(path.join(OUT, 'stopped.png'), await page.screenshot({ fullPage: false }));
    console.log('docs/console/stopped.png');
    closeTarget(t);
  } finally {
    await browser.close();
    await server.close();
    opened.close();
    await stack.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
