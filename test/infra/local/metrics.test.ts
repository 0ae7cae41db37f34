/**
 * Local mode's metrics: a real local pipeline (real servers, handlers in their execution
 * environments, the real face engine and ffmpeg) runs one short video, and the metric lines the
 * functions wrote (Powertools Metrics, EMF, as on AWS) are collected in the data folder: one video,
 * its frames and faces, each stage's duration, a cold start per function.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '#functions/config.js';
import { createFaceEngine } from '#functions/core/faces/engine.js';
import { COLD_START_METRIC, COUNT_METRICS, stageMetric, TIMED_STAGES } from '#functions/core/stages.js';
import { buildDemoData, type DemoData } from '#cli/lib/demo-data.js';
import { collectVideos, runVideos } from '#cli/lib/pipeline-run.js';
import { closeTarget, localTarget } from '#cli/lib/target.js';
import { metricsTable } from '#cli/commands/metrics.js';
import { readLocalMetrics, summarizeMetrics } from '#infra/local/metrics.js';
import { startLocalStack } from '#infra/local/stack.js';
import { ffmpegPath, tempDir } from '#test/support/videos.js';
import { quietLocalStackEnv } from '#test/support/stack.js';

let data: DemoData;
let work: string;

beforeAll(async () => {
  work = tempDir('facerec-metrics-');
  const engine = await createFaceEngine(loadConfig().engine);
  data = await buildDemoData(engine, ffmpegPath(), path.join(work, 'demo'));
}, 180_000);

test('a local run records the same metrics the functions emit on AWS', async () => {
  const videos = path.join(work, 'videos');
  mkdirSync(videos);
  copyFileSync(path.join(data.videosDir, 'sample1-face1.mp4'), path.join(videos, 'clip.mp4'));
  const dir = path.join(work, 'local');
  const stack = await startLocalStack({
    env: { ...quietLocalStackEnv(dir), FACEREC_GALLERY: data.galleryPath, FACEREC_FRAMES: '4' },
  });
  const t = localTarget(stack.info);
  let report;
  try {
    report = await runVideos({
      videos: await collectVideos([videos], stack.config.pipeline.video.extensions),
      target: t,
      timeoutSec: 240,
    });
    await stack.idle();
  } finally {
    closeTarget(t);
    await stack.stop();
  }
  const [run] = report.results;
  expect(run).toMatchObject({ status: 'SUCCEEDED', name: 'sample1-face1' });
  expect(run.frames).toBeGreaterThan(0);

  const metrics = readLocalMetrics(dir);
  const sum = (name: string) => metrics.find((m) => m.name === name && !m.function)?.sum;
  expect(sum(COUNT_METRICS.videos)).toBe(1);
  expect(sum(COUNT_METRICS.frames)).toBe(run.frames);
  expect(sum(COUNT_METRICS.faces)).toBe(run.faces);
  expect(sum(COUNT_METRICS.faces)).toBeGreaterThanOrEqual(1);
  expect(sum(COUNT_METRICS.unknownFaces)).toBeGreaterThanOrEqual(0);
  expect(sum(COUNT_METRICS.videosFailed)).toBeUndefined();
  // Every stage ran and was timed: ffmpeg at least once, decode and detect once a frame.
  for (const s of TIMED_STAGES) {
    const m = metrics.find((x) => x.name === stageMetric(s));
    expect({ stage: s, unit: m?.unit, timed: (m?.samples ?? 0) > 0 }).toEqual({
      stage: s,
      unit: 'Milliseconds',
      timed: true,
    });
  }
  expect(metrics.find((m) => m.name === stageMetric('detect'))?.samples).toBe(run.frames);
  // One cold start per function that ran (each in its own execution environment).
  const cold = metrics.filter((m) => m.name === COLD_START_METRIC).map((m) => m.function);
  expect(cold).toEqual(expect.arrayContaining(['facerec-splitter', 'facerec-recognition', 'facerec-result']));
  expect(metricsTable(metrics)).toMatch(/^Videos\s+-\s+Count\s+1\s+1\b/m);
}, 300_000);

test('summaries skip torn lines and filter by time', () => {
  const line = (ts: number, v: number | number[]) =>
    JSON.stringify({
      _aws: {
        Timestamp: ts,
        CloudWatchMetrics: [{ Namespace: 'x', Metrics: [{ Name: 'Faces', Unit: 'Count' }] }],
      },
      service: 'facerec',
      Faces: v,
    });
  const lines = [line(1000, 2), line(2000, [1, 5]), '{"_aws":{"Timest', 'not json'];
  expect(summarizeMetrics(lines)).toEqual([
    { name: 'Faces', unit: 'Count', samples: 3, sum: 8, min: 1, max: 5, avg: 8 / 3 },
  ]);
  expect(summarizeMetrics(lines, 1500)).toMatchObject([{ samples: 2, sum: 6 }]);
});
