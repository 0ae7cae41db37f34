/**
 * The console's pure parts and its server's guard rails, without a browser: the graph of the
 * real ASL file, state status from histories in the local endpoint's and AWS's shapes, results
 * read defensively, the report's escaping and CSP, and the server's loopback/host/method rules
 * and headers.
 */
import http from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { spawnSync } from 'node:child_process';
import { consoleTargetOf, pipelineGallery } from '#cli/console/console-target.js';
import { escapeHtml, jsonForHtml, reportHtml } from '#cli/console/report.js';
import type { Target } from '#cli/lib/target.js';
import type { StackInfo } from '#infra/local/stack.js';
import { frameMarks, resultView } from '#cli/console/result-view.js';
import { CONSOLE_CSP, startConsoleServer, VIEW_SCRIPTS, type ConsoleServer } from '#cli/console/server.js';
import { ConsoleSource } from '#cli/console/source.js';
import {
  catchTargets,
  END,
  innerStates,
  readDefinition,
  resourceLabel,
  START,
  stateGraph,
} from '#cli/console/state-graph.js';
import { consoleEvents, eventDetails, iterationRuns, stateRuns } from '#cli/console/state-status.js';
import { taskTimeoutSeconds } from '#functions/core/facts.js';

const HOSTILE = `<img src=x onerror=alert(1)>"><script>alert(2)</script>`;

describe('state graph of statemachine/pipeline.asl.json', () => {
  const def = readDefinition();
  const g = stateGraph(def);
  test('every state, Start and End, the Map with its inner states', () => {
    const ids = g.nodes.map((n) => n.id);
    expect(ids).toEqual(expect.arrayContaining([START, END, ...Object.keys(def.States as object)]));
    const map = g.nodes.find((n) => n.id === 'Recognize faces in frame batches')!;
    expect(map.type).toBe('Map');
    expect(map.children![0].nodes.map((n) => n.id).sort()).toEqual(['Frame batch failed', 'Recognize faces']);
    expect(map.children![0].edges).toEqual([
      { from: 'Recognize faces', to: 'Frame batch failed', kind: 'catch', label: 'States.ALL' },
    ]);
    // Long videos: the segments' Map and the Distributed Map, each with its inner states.
    const segments = g.nodes.find((n) => n.id === 'Extract segments')!;
    expect(segments.children![0].nodes.map((n) => n.id).sort()).toEqual([
      'Extract segment',
      'Segment failed',
    ]);
    const atScale = g.nodes.find((n) => n.id === 'Recognize faces at scale')!;
    expect(atScale.type).toBe('Map');
    expect(atScale.children![0].nodes.map((n) => n.id)).toContain('Recognize faces in batch');
  });
  test('the Distributed Map says so: its reader, batches, child executions and writer; its inner states run in child executions', () => {
    const atScale = g.nodes.find((n) => n.id === 'Recognize faces at scale')!;
    expect(atScale.mapMode).toBe('distributed');
    expect(atScale.mapRun).toEqual([
      'Items: arn:aws:states:::s3:getObject (JSON)',
      'Batches: up to $.frameList.batchSize items a child execution',
      'Child executions: EXPRESS, their events in the Map Run, not in this history',
      "Results: arn:aws:states:::s3:putObject (the Map Run's result files)",
      'Tolerated failures: 100%',
    ]);
    expect(atScale.children![0].nodes.every((n) => n.inChildExecutions)).toBe(true);
    for (const id of ['Extract segments', 'Recognize faces in frame batches']) {
      const map = g.nodes.find((n) => n.id === id)!;
      expect({ id, mode: map.mapMode, mapRun: map.mapRun }).toEqual({
        id,
        mode: 'inline',
        mapRun: undefined,
      });
      expect(map.children![0].nodes.some((n) => n.inChildExecutions)).toBe(false);
    }
  });
  test('Next, Catch and End edges', () => {
    expect(g.edges).toEqual(
      expect.arrayContaining([
        { from: START, to: 'Split video into frames', kind: 'next' },
        { from: 'Split video into frames', to: 'Choose how to recognize', kind: 'next' },
        {
          from: 'Choose how to recognize',
          to: 'Recognize faces in frame batches',
          kind: 'default',
          label: 'default',
        },
        { from: 'Split video into frames', to: 'Splitting failed', kind: 'catch', label: 'States.ALL' },
        { from: 'Write result', to: 'Announce result', kind: 'next' },
        { from: 'Processed', to: END, kind: 'end' },
        { from: 'Failed', to: END, kind: 'end' },
      ]),
    );
    expect(catchTargets(def)['Recognize faces']).toEqual(['Frame batch failed']);
  });
  test('no function ARN or substitution placeholder reaches the graph', () => {
    expect(JSON.stringify(g)).not.toMatch(/arn:aws:lambda|\$\{|\{\{/);
  });
  test('each state with its type, resource (words, not ARNs), Retry and Catch rules, timeout', () => {
    const split = g.nodes.find((n) => n.id === 'Split video into frames')!;
    expect(split).toMatchObject({
      type: 'Task',
      resource: 'Lambda function: splitter',
      timeoutSec: taskTimeoutSeconds('splitter'),
      catch: ['States.ALL -> Splitting failed'],
    });
    // Throttling first (it waits alone for a concurrency slot), then the transient faults.
    expect(split.retry).toEqual([
      'Lambda.TooManyRequestsException: 100 attempts, 1 s ×1.5, max 4 s, jitter',
      expect.stringMatching(/^Facerec\.Transient, .*: 4 attempts, 1 s ×2, max 10 s, jitter$/),
    ]);
    expect(g.nodes.find((n) => n.id === 'Announce result')!.resource).toBe(
      'arn:aws:states:::events:putEvents',
    );
    expect(g.nodes.find((n) => n.id === 'Processed')!.resource).toBeUndefined();
    expect(resourceLabel('arn:aws:lambda:eu-west-1:123456789012:function:facerec-result')).toBe(
      'Lambda function: facerec-result',
    );
    expect(resourceLabel('arn:aws:iam::123456789012:role/x')).toBeUndefined();
    expect([...innerStates(def)].sort()).toEqual([
      'Batch failed',
      'Extract segment',
      'Frame batch failed',
      'Frame batch keys',
      'Recognize faces',
      'Recognize faces in batch',
      'Segment failed',
    ]);
  });
});

// Histories in the local endpoint's shape (stateName, mapIndex, sequential ids) and AWS's.
let id = 0;
const ev = (type: string, extra: Record<string, unknown> = {}, t = id): HistoryEvent =>
  ({
    id: ++id,
    previousEventId: id - 1,
    timestamp: new Date(1_700_000_000_000 + t * 100),
    type,
    ...extra,
  }) as HistoryEvent;
const entered = (name: string, extra = {}) =>
  ev('TaskStateEntered', { stateEnteredEventDetails: { name, input: '{}' }, ...extra });
const exited = (name: string, extra = {}) =>
  ev('TaskStateExited', { stateExitedEventDetails: { name, output: '{"ok":1}' }, ...extra });
const scheduled = (name: string) => ev('LambdaFunctionScheduled', { stateName: name });
const failed = (name: string, error = 'Facerec.BadInput') =>
  ev('LambdaFunctionFailed', { stateName: name, lambdaFunctionFailedEventDetails: { error, cause: 'bad' } });
const catches = catchTargets(readDefinition());

describe('state status from a history', () => {
  beforeEach(() => (id = 0));
  test('succeeded, retried then succeeded', () => {
    const events = [
      ev('ExecutionStarted'),
      entered('Split video into frames'),
      scheduled('Split video into frames'),
      failed('Split video into frames', 'Facerec.Transient'),
      scheduled('Split video into frames'),
      exited('Split video into frames'),
    ];
    const runs = stateRuns(events, { executionRunning: false, catchTargets: catches });
    expect(runs['Split video into frames']).toMatchObject({
      status: 'SUCCEEDED',
      entered: 1,
      exited: 1,
      failedAttempts: 1,
      caught: 0,
    });
  });
  test('a caught failure (local: the state is left; AWS: it is not) is CAUGHT, the Fail state FAILED', () => {
    const local = [
      entered('Split video into frames'),
      scheduled('Split video into frames'),
      failed('Split video into frames'),
      exited('Split video into frames'),
      entered('Splitting failed'),
      exited('Splitting failed'),
      entered('Write failure record'),
      exited('Write failure record'),
      ev('FailStateEntered', { stateEnteredEventDetails: { name: 'Failed' } }),
      ev('ExecutionFailed'),
    ];
    const aws = local.filter((e) => !(e.stateExitedEventDetails?.name === 'Split video into frames'));
    for (const events of [local, aws]) {
      const runs = stateRuns(events, { executionRunning: false, catchTargets: catches });
      expect(runs['Split video into frames'].status).toBe('CAUGHT');
      expect(runs['Splitting failed'].status).toBe('SUCCEEDED');
      expect(runs['Failed'].status).toBe('FAILED');
      expect(runs['Write result']).toBeUndefined();
    }
  });
  test('a running Map: iterations in flight RUNNING, one caught iteration does not hide them', () => {
    const events = [
      entered('Recognize faces in frame batches'),
      entered('Recognize faces', { mapIndex: 0 }),
      entered('Recognize faces', { mapIndex: 1 }),
      ev('LambdaFunctionFailed', {
        stateName: 'Recognize faces',
        mapIndex: 0,
        lambdaFunctionFailedEventDetails: { error: 'X' },
      }),
      exited('Recognize faces', { mapIndex: 0 }),
      entered('Frame batch failed', { mapIndex: 0 }),
      exited('Frame batch failed', { mapIndex: 0 }),
    ];
    const runs = stateRuns(events, { executionRunning: true, catchTargets: catches });
    expect(runs['Recognize faces']).toMatchObject({ status: 'RUNNING', running: 1, caught: 1 });
    expect(runs['Recognize faces in frame batches'].status).toBe('RUNNING');
  });
  test('AWS shape: failures found through previousEventId, retries through the schedule after a failure', () => {
    const events = [
      entered('Write result'),
      ev('TaskScheduled'),
      ev('TaskStarted'),
      ev('TaskFailed', { taskFailedEventDetails: { error: 'Facerec.Transient', cause: 'slow' } }),
      ev('TaskScheduled'),
      ev('TaskStarted'),
      ev('TaskSucceeded'),
      exited('Write result'),
    ];
    const runs = stateRuns(events, { executionRunning: false, catchTargets: catches });
    expect(runs['Write result']).toMatchObject({
      status: 'SUCCEEDED',
      failedAttempts: 1,
      errors: [{ error: 'Facerec.Transient', cause: 'slow' }],
    });
    const rows = consoleEvents(events);
    expect(rows[3]).toMatchObject({
      type: 'TaskFailed',
      state: 'Write result',
      detail: 'Facerec.Transient: slow',
    });
  });
  test('execution data is cut short', () => {
    const big = 'x'.repeat(10_000);
    const events = [
      ev('TaskStateEntered', { stateEnteredEventDetails: { name: 'Write result', input: big } }),
    ];
    const runs = stateRuns(events, { executionRunning: true, catchTargets: catches, maxData: 100 });
    expect(runs['Write result'].input!.length).toBeLessThan(150);
    expect(consoleEvents(events, 50)[0].detail!.length).toBeLessThan(80);
  });
});

describe('Map iterations and event details', () => {
  beforeEach(() => (id = 0));
  const inner = innerStates(readDefinition());
  // AWS: the events of two iterations interleave; each links to the previous one of its own.
  const link = (e: HistoryEvent, previous: HistoryEvent) => ({ ...e, previousEventId: previous.id });
  test('AWS shape: inner events follow their iteration by previousEventId, whatever the order', () => {
    const map = ev('MapStateEntered', {
      stateEnteredEventDetails: { name: 'Recognize faces in frame batches' },
    });
    const it0 = link(
      ev('MapIterationStarted', { mapIterationStartedEventDetails: { name: 'm', index: 0 } }),
      map,
    );
    const it1 = link(
      ev('MapIterationStarted', { mapIterationStartedEventDetails: { name: 'm', index: 1 } }),
      map,
    );
    const in0 = link(entered('Recognize faces'), it0);
    const in1 = link(entered('Recognize faces'), it1);
    const s1 = link(ev('TaskScheduled'), in1);
    const f1 = link(ev('TaskFailed', { taskFailedEventDetails: { error: 'Facerec.Transient' } }), s1);
    const r1 = link(ev('TaskScheduled'), f1);
    const out0 = link(exited('Recognize faces'), in0);
    const ok1 = link(ev('TaskSucceeded'), r1);
    const out1 = link(exited('Recognize faces'), ok1);
    const end0 = link(ev('MapIterationSucceeded', { mapIterationSucceededEventDetails: { index: 0 } }), out0);
    const end1 = link(ev('MapIterationSucceeded', { mapIterationSucceededEventDetails: { index: 1 } }), out1);
    const mapOut = link(
      ev('MapStateExited', { stateExitedEventDetails: { name: 'Recognize faces in frame batches' } }),
      end1,
    );
    const events = [map, it0, it1, in0, in1, s1, f1, r1, out0, ok1, out1, end0, end1, mapOut];
    const its = iterationRuns(events, inner, { executionRunning: false, catchTargets: catches });
    expect(
      its.map((i) => [
        i.index,
        i.status,
        i.states['Recognize faces'].entered,
        i.states['Recognize faces'].retries,
      ]),
    ).toEqual([
      [0, 'SUCCEEDED', 1, 0],
      [1, 'SUCCEEDED', 1, 1],
    ]);
    const rows = consoleEvents(events, 300, { inner });
    expect(rows.map((r) => r.iteration)).toEqual([undefined, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, undefined]);
    expect(rows.map((r) => r.timestamp)).toEqual(events.map((e) => (e.timestamp as Date).getTime()));
  });
  test('event details for a page: a function by its name, never an ARN with the account; the role dropped', () => {
    const e = ev('LambdaFunctionScheduled', {
      lambdaFunctionScheduledEventDetails: {
        resource: 'arn:aws:lambda:eu-west-1:123456789012:function:facerec-splitter',
        input: 'x'.repeat(5000),
        inputDetails: { truncated: false },
      },
    });
    const started = ev('ExecutionStarted', {
      executionStartedEventDetails: { input: '{}', roleArn: 'arn:aws:iam::123456789012:role/r' },
    });
    expect(eventDetails(e, 100)).toEqual({
      resource: 'facerec-splitter',
      input: expect.stringMatching(/… \(5000 characters\)$/),
    });
    expect(eventDetails(started, 100)).toEqual({ input: '{}' });
    const rows = consoleEvents([started, e], 300, { maxDetails: 100 });
    expect(rows[1].resource).toBe('facerec-splitter');
    expect(JSON.stringify(rows)).not.toContain('123456789012');
  });
});

describe('result view (read defensively)', () => {
  test('a result as the result function writes it, plus frame times and appearances', () => {
    const v = resultView({
      video: { bucket: 'b', key: 'clip.mp4' },
      name: 'Ada',
      people: [
        {
          name: 'Ada',
          frames: 2,
          faces: 2,
          bestDistance: 0.31,
          firstSeen: 0.5,
          lastSeen: 1.5,
          appearances: [{ start: 0.5, end: 1.5 }],
        },
      ],
      faces: 3,
      frames: {
        analysed: 2,
        failed: 0,
        results: [
          {
            key: 'clip/frame-0000.jpg',
            timeSec: 0.5,
            faces: [{ name: 'Ada', distance: 0.31, score: 0.9, box: { x: 1, y: 2, width: 30, height: 40 } }],
          },
          {
            key: 'clip/frame-0001.jpg',
            time: 1.5,
            faces: [{ name: 'Unknown', distance: 0.8, box: { x: 5, y: 5, width: 9, height: 9 } }],
          },
        ],
      },
      timings: { split: { ffmpegMs: 100 }, recognition: { totalMs: 50 } },
    });
    expect(v).toMatchObject({ name: 'Ada', video: { key: 'clip.mp4' }, faces: 3, framesAnalysed: 2 });
    expect(v.people[0]).toMatchObject({
      firstSeenSec: 0.5,
      lastSeenSec: 1.5,
      appearances: [{ fromSec: 0.5, toSec: 1.5 }],
    });
    expect(v.frames.map((f) => f.timeSec)).toEqual([0.5, 1.5]);
    expect(frameMarks(v.frames[1])).toEqual([
      { box: { x: 5, y: 5, width: 9, height: 9 }, known: false, label: 'Unknown 0.80' },
    ]);
    expect(v.timings).toEqual([
      { label: 'ffmpeg', ms: 100 },
      { label: 'recognition (all batches)', ms: 50 },
    ]);
  });
  test("appearance intervals, wherever a result puts them (on the person, beside it, as pairs); today's first/last seen", () => {
    const onPerson = resultView({
      people: [{ name: 'Ada', intervals: [{ fromSec: 0, toSec: 1.5 }, [3, 4.5]], screenTimeSec: 3 }],
    });
    expect(onPerson.people[0]).toMatchObject({
      appearances: [
        { fromSec: 0, toSec: 1.5 },
        { fromSec: 3, toSec: 4.5 },
      ],
      screenTimeSec: 3,
    });
    const beside = resultView({
      people: [{ name: 'Ada', frames: 3 }],
      appearances: [
        { name: 'Ada', firstSeenSec: 0.5, lastSeenSec: 2, intervals: [{ startSec: 0.5, endSec: 2 }] },
      ],
    });
    expect(beside.people[0]).toMatchObject({
      firstSeenSec: 0.5,
      lastSeenSec: 2,
      appearances: [{ fromSec: 0.5, toSec: 2 }],
    });
    // What the result function writes today: appearances beside the people, first and last seen only.
    const today = resultView({
      people: [{ name: 'Ada', frames: 2, faces: 2, bestDistance: 0.2 }],
      appearances: [{ name: 'Ada', firstSeenSec: 0, lastSeenSec: 1, frames: 2, frameKeys: ['a', 'b'] }],
      unknownFaces: 4,
    });
    expect(today.people[0]).toMatchObject({ firstSeenSec: 0, lastSeenSec: 1, appearances: [] });
    expect(today.unknownFaces).toBe(4);
  });
  test.each([
    null,
    42,
    'text',
    [],
    { people: 'x', frames: 7 },
    { frames: { results: [null, { key: 3 }, { key: 'k', faces: [null, { box: 'no' }] }] } },
  ])('odd input %p gives an empty but valid view', (input) => {
    const v = resultView(input, { key: 'fallback.mp4', name: 'N' });
    expect(v.video.key).toBe(
      typeof input === 'object' && input && 'video' in input ? expect.any(String) : 'fallback.mp4',
    );
    expect(Array.isArray(v.people) && Array.isArray(v.frames)).toBe(true);
    for (const f of v.frames) expect(typeof f.key).toBe('string');
  });
});

describe('report HTML', () => {
  const result = resultView({
    video: { key: HOSTILE },
    name: HOSTILE,
    people: [{ name: HOSTILE, frames: 1 }],
  });
  const html = reportHtml({ result, images: {}, notes: [HOSTILE], generated: 'test' });
  test('no string of the data appears as markup', () => {
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain(`<title>facerec report: ${escapeHtml(HOSTILE)}</title>`);
    const block = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(JSON.parse(block).result.name).toBe(HOSTILE);
    expect(jsonForHtml('</script><!--\u2028')).toBe('"\\u003c/script\\u003e\\u003c!--\\u2028"');
  });
  test('a CSP that allows only its own inline code (by hash) and data: images, nothing to fetch', () => {
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1];
    expect(csp).toMatch(
      /^default-src 'none'; script-src ('sha256-[^']+' ?)+; style-src 'sha256-[^']+'; img-src data:/,
    );
    // dagre, morphdom, the 9 views and report.js, each allowed by its hash.
    expect(csp.match(/'sha256-/g)).toHaveLength(13);
    expect(csp).not.toMatch(/unsafe|https?:/);
    // Nothing to fetch: no script or stylesheet by address; the favicon is inlined.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="(?!data:image\/svg\+xml;base64,)/);
    expect(html).toMatch(/<link rel="icon" href="data:image\/svg\+xml;base64,/);
  });
});

describe('console server', () => {
  let server: ConsoleServer;
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
  });
  beforeAll(async () => {
    const source = new ConsoleSource({
      s3,
      buckets: { input: 'i', stage1: 's', output: 'o', meta: 'm' },
      description: 'test',
    });
    server = await startConsoleServer({ source, port: 0 });
  });
  afterAll(async () => {
    await server.close();
    s3.destroy();
  });
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: server.port, path, method, headers, agent: false },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  test('listens on 127.0.0.1 only', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });
  test('the page, its scripts (dagre from node_modules) and the graph API, all with a strict CSP', async () => {
    for (const p of [
      '/',
      '/static/app.js',
      ...VIEW_SCRIPTS.map((f) => `/static/${f}`),
      '/static/console.css',
      '/static/favicon.svg',
      '/favicon.ico',
      '/vendor/dagre.min.js',
      '/vendor/morphdom.min.js',
      '/api/graph',
      '/api/definition',
      '/api/info',
      '/api/status',
    ]) {
      const r = await get(p);
      expect([p, r.status]).toEqual([p, 200]);
      expect(r.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe/);
    const info = JSON.parse((await get('/api/info')).body);
    expect(JSON.stringify(info)).not.toMatch(/127\.0\.0\.1:9|secret|accessKey/i);
  });
  test('another Host (DNS rebinding), a write method, a bad parameter are refused', async () => {
    expect((await get('/api/graph', { host: 'evil.example' })).status).toBe(421);
    expect((await get('/api/graph', { host: `attacker.test:${server.port}` })).status).toBe(421);
    expect((await get('/api/graph', {}, 'POST')).status).toBe(405);
    expect((await get('/api/frame?arn=arn:x&i=-1')).status).toBe(400);
    expect((await get('/api/frame?arn=nope&i=1')).status).toBe(400);
    expect((await get('/api/executions?status=<x>')).status).toBe(400);
    expect((await get('/api/executions?page=-1')).status).toBe(400);
    expect((await get('/api/executions?limit=5000')).status).toBe(400);
    expect((await get(`/api/executions?q=${'x'.repeat(201)}`)).status).toBe(400);
    expect((await get('/api/event?arn=arn:x&id=')).status).toBe(400);
    expect((await get('/api/event?arn=<script>&id=1')).status).toBe(400);
    expect((await get('/../package.json')).status).toBe(404);
    expect((await get('/static/../source.ts')).status).toBe(404);
    expect((await get('/static/report.js', {}, 'DELETE')).status).toBe(405);
    // HEAD: the headers, no body.
    const head = await get('/static/app.js', {}, 'HEAD');
    expect([head.status, head.body, head.headers['content-security-policy']]).toEqual([200, '', CONSOLE_CSP]);
  });
  test('the definition view gets the ASL file as JSON (placeholders quoted), the status says running', async () => {
    const d = JSON.parse((await get('/api/definition')).body);
    expect(d.file).toBe('statemachine/pipeline.asl.json');
    expect(JSON.parse(d.text).States['Recognize faces in frame batches'].MaxConcurrency).toBe(
      '${MapMaxConcurrency}',
    );
    expect(JSON.parse((await get('/api/status')).body)).toEqual({ running: true });
  });
  test('no state machine: the executions API says so, the server stays up', async () => {
    const r = await get('/api/executions');
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body).error).toMatch(/no state machine/);
    expect((await get('/api/graph')).status).toBe(200);
  });
});

describe('the console target of a local stack', () => {
  const buckets = { input: 'p-input', stage1: 'p-stage-1', output: 'p-output', meta: 'p-meta' };
  const s3 = new S3Client({ region: 'us-east-1' });
  const local = (pid: number, gallery?: string) =>
    ({
      kind: 'local',
      s3,
      sfn: {} as never,
      buckets,
      description: 'x',
      local: { pid, profile: 'default', gallery } as StackInfo,
      close: async () => undefined,
    }) as Target;
  afterAll(() => s3.destroy());

  test('the gallery is the one the pipeline reads: the meta bucket (where the stack pushed its file), or an s3:// given', () => {
    expect(pipelineGallery(local(1, '/tmp/people/gallery.json'))).toBe('s3://p-meta/gallery/gallery.json');
    expect(pipelineGallery(local(1, 's3://elsewhere/g.json'))).toBe('s3://elsewhere/g.json');
    expect(pipelineGallery({ buckets }, '/a/file.json')).toBe('s3://p-meta/gallery/gallery.json');
    expect(consoleTargetOf(local(1), { gallery: 'mine.json' }).target.gallery).toBe('mine.json');
  });
  test("the stack's liveness: its process (another one's); this process's own stack has none to check", () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    expect(consoleTargetOf(local(gone)).target.alive!()).toBe(false);
    expect(consoleTargetOf(local(process.ppid)).target.alive!()).toBe(true);
    expect(consoleTargetOf(local(process.pid)).target.alive).toBeUndefined();
  });
});

describe('report HTML of a failed video (no result)', () => {
  test('the title is the video, escaped; the data block holds the failure record', () => {
    const html = reportHtml({
      execution: {
        executionArn: 'arn:aws:states:r:1:execution:m:x',
        name: 'x',
        status: 'FAILED',
        video: HOSTILE,
        states: {},
        iterations: [],
        events: [],
        eventsTotal: 0,
        transitions: 0,
        errorRecord: { error: 'Facerec.BadInput', reason: HOSTILE },
      },
      images: {},
      notes: [],
      generated: 'test',
    });
    expect(html).toContain(`<title>facerec report: ${escapeHtml(HOSTILE)}</title>`);
    expect(html).not.toContain('<img src=x');
    const block = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(JSON.parse(block).execution.errorRecord.reason).toBe(HOSTILE);
  });
});
