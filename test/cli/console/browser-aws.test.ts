/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The console of a deployed pipeline (`facerec console --aws`) in headless Chromium, its SDK
 * clients mocked (aws-sdk-client-mock) with 230 executions: the list pages past 100 (Older, Newer,
 * the page in the address), filters by status and searches; names and keys that are markup stay
 * text, long ones do not make the page scroll sideways at 800 px; an execution that is still
 * running refreshes in place; a long video's execution shows its Distributed Map as such. Skips (with a message) when /usr/bin/chromium is absent.
 */
import { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { Page } from 'playwright-core';
import { startConsoleServer, type ConsoleServer } from '#cli/console/server.js';
import { ConsoleSource } from '#cli/console/source.js';
import { launchChromium, type Browser } from '#test/support/chromium.js';
import { HOSTILE_KEY, HOSTILE_NAME } from './fixture.js';
import {
  describeInChromium,
  expectNoInjection,
  expectNoSidewaysScroll,
  pageRecordingDialogs,
  whenResponses,
} from './page-checks.js';

const run = describeInChromium();

const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:FacerecStateMachine';
const arnOf = (n: number) => `arn:aws:states:eu-west-1:123456789012:execution:FacerecStateMachine:clip-${n}`;
const t = (s: number) => new Date(Date.UTC(2026, 11, 3, 8, 0, 0) + s * 1000);
const N = 230;
const LONG_KEY = `uploads/${'a-very-long-folder-name-without-spaces-'.repeat(6)}clip.mp4`;
/** The execution of a long video: its segments extracted by an inline Map, its frames recognized
 * by the Distributed Map (a Map Run whose child executions' events are not in this history). */
const LONG_VIDEO = 7;

function longVideoHistory(): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const add = (type: string, extra: Partial<HistoryEvent> = {}) =>
    events.push({
      id: events.length + 1,
      ...(events.length ? { previousEventId: events.length } : {}),
      timestamp: t(events.length),
      type: type as HistoryEvent['type'],
      ...extra,
    });
  const state = (kind: string, name: string, output = '{}') => {
    add(`${kind}StateEntered`, { stateEnteredEventDetails: { name, input: '{}' } });
    add(`${kind}StateExited`, { stateExitedEventDetails: { name, output } });
  };
  add('ExecutionStarted', { executionStartedEventDetails: { input: '{}' } });
  state('Task', 'Split video into frames');
  state('Choice', 'Choose how to recognize');
  add('MapStateEntered', { stateEnteredEventDetails: { name: 'Extract segments', input: '{}' } });
  add('MapStateStarted', { mapStateStartedEventDetails: { length: 1 } });
  add('MapIterationStarted', { mapIterationStartedEventDetails: { name: 'Extract segments', index: 0 } });
  state('Task', 'Extract segment');
  add('MapIterationSucceeded', { mapIterationSucceededEventDetails: { name: 'Extract segments', index: 0 } });
  add('MapStateSucceeded');
  add('MapStateExited', { stateExitedEventDetails: { name: 'Extract segments', output: '{}' } });
  state('Task', 'Index frames');
  state('Choice', 'Choose how to recognize');
  add('MapStateEntered', { stateEnteredEventDetails: { name: 'Recognize faces at scale', input: '{}' } });
  add('MapRunStarted', { mapRunStartedEventDetails: { mapRunArn: `${SM}/FrameBatches:run-1` } });
  add('MapRunSucceeded');
  add('MapStateExited', {
    stateExitedEventDetails: {
      name: 'Recognize faces at scale',
      output: JSON.stringify({ batches: { ResultWriterDetails: { Bucket: 'p-stage-1', Key: 'm.json' } } }),
    },
  });
  state('Task', 'Write result');
  state('Task', 'Announce result');
  state('Succeed', 'Processed');
  add('ExecutionSucceeded', { executionSucceededEventDetails: { output: '{}' } });
  return events;
}

run('console of a deployed pipeline (mocked SDK) in headless Chromium', () => {
  const sfn = mockClient(SFNClient);
  const s3 = mockClient(S3Client);
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  /** The newest execution runs until the test says it succeeded. */
  let newestDone = false;

  const keyOf = (n: number) => (n === N ? HOSTILE_KEY : n === N - 1 ? LONG_KEY : `videos/clip-${n}.mp4`);
  const statusOf = (n: number) =>
    n === N ? (newestDone ? 'SUCCEEDED' : 'RUNNING') : n % 10 === 0 ? 'FAILED' : 'SUCCEEDED';
  const item = (n: number) => ({
    executionArn: arnOf(n),
    stateMachineArn: SM,
    name: `clip-${n}`,
    status: statusOf(n) as 'RUNNING' | 'SUCCEEDED' | 'FAILED',
    startDate: t(n * 10),
    ...(statusOf(n) === 'RUNNING' ? {} : { stopDate: t(n * 10 + 4) }),
  });

  beforeAll(async () => {
    sfn
      .on(ListExecutionsCommand)
      .callsFake((input: { maxResults?: number; nextToken?: string; statusFilter?: string }) => {
        const all = Array.from({ length: N }, (_, i) => item(N - i)).filter(
          (e) => !input.statusFilter || e.status === input.statusFilter,
        );
        const start = Number(input.nextToken ?? 0);
        const size = Math.min(input.maxResults ?? 100, 100);
        return {
          executions: all.slice(start, start + size),
          ...(start + size < all.length ? { nextToken: String(start + size) } : {}),
        };
      });
    sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
      const n = Number(/clip-(\d+)$/.exec(input.executionArn)![1]);
      const e = item(n);
      return {
        ...e,
        input: JSON.stringify({ bucket: 'p-input', key: keyOf(n) }),
        ...(e.status === 'SUCCEEDED'
          ? {
              output: JSON.stringify({
                name: HOSTILE_NAME,
                people: [{ name: HOSTILE_NAME }, { name: 'Ada' }],
              }),
            }
          : e.status === 'FAILED'
            ? {
                error: 'Facerec.BadInput',
                cause: JSON.stringify({ errorMessage: `${HOSTILE_NAME} is not a video` }),
              }
            : {}),
      };
    });
    sfn.on(GetExecutionHistoryCommand).callsFake((input: { executionArn: string }) => {
      if (input.executionArn === arnOf(LONG_VIDEO)) return { events: longVideoHistory() };
      const events: HistoryEvent[] = [
        { id: 1, timestamp: t(0), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } },
        {
          id: 2,
          previousEventId: 1,
          timestamp: t(1),
          type: 'TaskStateEntered',
          stateEnteredEventDetails: { name: 'Split video into frames', input: '{}' },
        },
      ];
      if (newestDone)
        events.push(
          {
            id: 3,
            previousEventId: 2,
            timestamp: t(2),
            type: 'TaskStateExited',
            stateExitedEventDetails: { name: 'Split video into frames', output: '{}' },
          },
          { id: 4, previousEventId: 3, timestamp: t(3), type: 'ExecutionSucceeded' },
        );
      return { events };
    });
    s3.onAnyCommand().rejects(
      Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }),
    );
    const source = new ConsoleSource({
      s3: new S3Client({ region: 'eu-west-1' }),
      sfn: new SFNClient({ region: 'eu-west-1' }),
      buckets: { input: 'p-input', stage1: 'p-stage-1', output: 'p-output', meta: 'p-meta' },
      stateMachineArn: SM,
      description: 'AWS eu-west-1, FacerecStateMachine',
      gallery: 's3://p-meta/gallery/gallery.json',
    });
    server = await startConsoleServer({ source, port: 0, pollMs: 300 });
    browser = await launchChromium({ width: 800, height: 900 });
    page = await pageRecordingDialogs(browser, dialogs);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    sfn.restore();
    s3.restore();
  });

  const count = () => page.locator('#exec-count').textContent();
  const names = () => page.locator('tbody tr[data-arn] td.col-execution').allTextContents();

  test('the list pages past 100: Older and Newer, the page kept in the address', async () => {
    await page.goto(server.url);
    await page.waitForSelector('tbody tr[data-arn]');
    expect(await count()).toBe('1–50 of 230');
    for (let i = 0; i < 3; i++) {
      const before = await count();
      await page.click('button:has-text("Older")');
      await page.waitForFunction((b) => document.querySelector('#exec-count')?.textContent !== b, before);
    }
    expect(await count()).toBe('151–200 of 230');
    expect((await names())[0]).toBe('clip-80');
    expect(page.url()).toMatch(/#\/\?page=3$/);
    await page.click('button:has-text("Older")');
    await page.waitForFunction(() => document.querySelector('#exec-count')?.textContent === '201–230 of 230');
    expect((await names()).at(-1)).toBe('clip-1');
    expect(await page.locator('button:has-text("Older")').isDisabled()).toBe(true);
    // A reload keeps the page.
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#exec-count')?.textContent === '201–230 of 230');
    await page.click('button:has-text("Newer")');
    await page.waitForFunction(() => document.querySelector('#exec-count')?.textContent === '151–200 of 230');
  }, 60_000);

  test('status filter and search; hostile names and keys stay text; nothing scrolls sideways at 800 px', async () => {
    await page.goto(server.url);
    await page.waitForSelector('tbody tr[data-arn]');
    await page.selectOption('#exec-status', 'FAILED');
    await page.waitForFunction(() => document.querySelector('#exec-count')?.textContent === '1–22 of 22');
    expect(
      new Set(
        await page
          .locator('tbody tr[data-arn]')
          .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status'))),
      ),
    ).toEqual(new Set(['FAILED']));
    expect(await page.locator('tbody tr[data-arn] td.recognized').first().textContent()).toContain(
      HOSTILE_NAME,
    );
    await page.selectOption('#exec-status', '');
    await page.fill('#exec-search', 'clip-22');
    await page.waitForFunction(() => document.querySelector('#exec-count')?.textContent === '1–11 of 11');
    await page.fill('#exec-search', '');
    await page.waitForFunction(() => document.querySelector('#exec-count')?.textContent === '1–50 of 230');
    const row = page.locator(`tbody tr[data-arn="${arnOf(N - 1)}"]`);
    expect(await row.locator('td.video').textContent()).toBe(LONG_KEY);
    expect(await row.locator('td.recognized .person-name').allTextContents()).toEqual([HOSTILE_NAME, 'Ada']);
    await expectNoSidewaysScroll(page, 'executions at 800 px');
    await expectNoInjection(page, dialogs);
  }, 60_000);

  test("a long video's execution: the Distributed Map says so, its inner states ran in child executions (not 'not run'), at 800 px", async () => {
    await page.goto(`${server.url}#/execution?arn=${encodeURIComponent(arnOf(LONG_VIDEO))}`);
    await page.waitForSelector('.execution[data-status="SUCCEEDED"] g.state[data-state="Write result"]');
    const statusOf = (name: string) =>
      page.locator(`g.state[data-state="${name}"]`).first().getAttribute('data-status');
    const atScale = page.locator('g.state[data-state="Recognize faces at scale"]');
    expect(await statusOf('Recognize faces at scale')).toBe('SUCCEEDED');
    expect(await atScale.locator('> text.state-type').textContent()).toBe('Map · Distributed');
    expect(await statusOf('Extract segment')).toBe('SUCCEEDED');
    expect(await statusOf('Index frames')).toBe('SUCCEEDED');
    // Inside the Distributed Map: in child executions; inside the inline Map that did not run: not run.
    for (const name of ['Frame batch keys', 'Recognize faces in batch', 'Batch failed']) {
      expect({ name, status: await statusOf(name) }).toEqual({ name, status: 'CHILD' });
      expect(await page.locator(`g.state[data-state="${name}"] text.state-sub`).textContent()).toBe(
        'in child executions',
      );
    }
    expect(await statusOf('Recognize faces')).toBe('NOT_RUN');
    await page.locator('g.state[data-state="Recognize faces in batch"]').click();
    await page.waitForSelector('.state-detail h3:has-text("Recognize faces in batch")');
    expect(await page.locator('.state-detail').textContent()).toContain(
      "This state runs in the Distributed Map's child executions",
    );
    // The Map's own detail: its reader, batches, child executions and writer.
    await page.locator('g.state[data-state="Recognize faces at scale"] > text.state-name').click();
    await page.waitForSelector('.state-detail h3:has-text("Recognize faces at scale")');
    const detail = await page.locator('.state-detail').textContent();
    expect(detail).toContain('Map (Distributed)');
    expect(detail).toContain('Items: arn:aws:states:::s3:getObject (JSON)');
    expect(detail).toContain('Child executions: EXPRESS');
    await page.click('button[data-arg="table"]');
    await page.waitForSelector('table.states');
    expect(
      await page.locator('table.states tr[data-state="Recognize faces at scale"] td').nth(1).textContent(),
    ).toBe('Map (Distributed)');
    expect(
      await page.locator('table.states tr[data-state="Recognize faces in batch"] td').nth(2).textContent(),
    ).toBe('in child executions');
    await expectNoSidewaysScroll(page, 'long video execution at 800 px');
    await expectNoInjection(page, dialogs);
  }, 60_000);

  test('a running execution refreshes in place until it ends; its page at 800 px', async () => {
    await page.goto(`${server.url}#/execution?arn=${encodeURIComponent(arnOf(N))}`);
    await page.waitForSelector('.execution[data-status="RUNNING"]');
    await page.locator('.details-panel').evaluate((el) => ((el as HTMLElement & { mark?: number }).mark = 1));
    await whenResponses(page, '/api/execution?', 2);
    newestDone = true;
    await page.waitForSelector('.execution[data-status="SUCCEEDED"]', { timeout: 30_000 });
    expect(
      await page.locator('.details-panel').evaluate((el) => (el as HTMLElement & { mark?: number }).mark),
    ).toBe(1);
    expect(
      await page.locator('g.state[data-state="Split video into frames"]').getAttribute('data-status'),
    ).toBe('SUCCEEDED');
    expect(await page.locator('h2 .title-key').textContent()).toBe(HOSTILE_KEY);
    await expectNoSidewaysScroll(page, 'execution at 800 px');
    await expectNoInjection(page, dialogs);
  }, 60_000);
});
