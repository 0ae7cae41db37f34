/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The console in a real browser (headless Chromium) against a local stack with real handlers: a
 * video uploaded, its row turning green in place (the row, a text selection in it and the focus
 * survive the live updates), its execution page as the Step Functions console lays it out (details,
 * everyone recognized first, the graph with types, resources and retries, one Map iteration at a
 * time, the table view, input and output folded and copied, the history with absolute times, a
 * filter and rows that open); a failed video; the state machine and its definition; the gallery
 * the pipeline uses, updated after a push; every page at 800 px with no sideways scroll, its title
 * and the favicon; the reports (a result, a failed video, a stopped stack's saved history); the
 * banner when the stack stops and when the console itself does. Names and keys that are markup
 * stay text: no dialog, no injected element. Every wait is on a condition in the page, never a
 * sleep. Skips (with a message) when /usr/bin/chromium is absent.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Page } from 'playwright-core';
import { buildReport } from '#cli/commands/report.js';
import { localConsoleTarget } from '#cli/console/console-target.js';
import { startConsoleServer, type ConsoleServer } from '#cli/console/server.js';
import { ConsoleSource } from '#cli/console/source.js';
import { readDefinition } from '#cli/console/state-graph.js';
import { localTarget } from '#cli/lib/target.js';
import { putGallery } from '#functions/aws/gallery-source.js';
import { galleryLocation } from '#functions/core/layout.js';
import { startLocalStack, type LocalStack } from '#infra/local/stack.js';
import { launchChromium, type Browser } from '#test/support/chromium.js';
import { tempDir } from '#test/support/videos.js';
import { quietLocalStackEnv } from '#test/support/stack.js';
import { consoleFixture, HOSTILE_KEY, HOSTILE_NAME, PLAIN_NAME, type ConsoleFixture } from './fixture.js';
import {
  describeInChromium,
  expectNoInjection,
  expectNoSidewaysScroll,
  pageRecordingDialogs,
  whenResponses,
} from './page-checks.js';

const run = describeInChromium();

const GREEN = 'rgb(46, 125, 50)';

run('console in headless Chromium (local stack)', () => {
  let work: string;
  let fixture: ConsoleFixture;
  let stack: LocalStack;
  let stackStopped = false;
  let server: ConsoleServer;
  let closeTarget: () => void;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  let executionArn: string;
  let failedArn: string;

  beforeAll(async () => {
    work = tempDir('facerec-console-');
    fixture = await consoleFixture(work);
    stack = await startLocalStack({
      env: {
        ...quietLocalStackEnv(path.join(work, 'local')),
        FACEREC_GALLERY: fixture.galleryPath,
        FACEREC_PROFILE: 'default',
        // 4 frames in batches of 2: a Map of 2 iterations.
        FACEREC_FRAMES: '4',
        FACEREC_FRAME_BATCH: '2',
      },
    });
    const opened = localConsoleTarget(stack.info, { people: fixture.peopleDir });
    closeTarget = opened.close;
    // The stack runs in this process: its liveness is what the test says (facerec console, in
    // another process, checks the stack's pid).
    const source = new ConsoleSource({ ...opened.target, alive: () => !stackStopped });
    server = await startConsoleServer({ source, port: 0, pollMs: 300 });
    browser = await launchChromium();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    page = await pageRecordingDialogs(browser, dialogs);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    closeTarget?.();
    await stack?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function upload(key: string, body: Buffer) {
    const t = localTarget(stack.info);
    await t.s3.send(
      new PutObjectCommand({
        Bucket: stack.info.buckets.input,
        Key: key,
        Body: body,
        ContentType: 'video/mp4',
      }),
    );
    await t.close();
  }

  test('an uploaded video goes green in place: the row, a selection in it and the focus stay through live updates', async () => {
    await page.goto(server.url);
    await page.waitForSelector('h2:has-text("Executions")');
    expect(await page.title()).toBe('Executions · facerec');
    const t0 = Date.now();
    await upload(HOSTILE_KEY, readFileSync(fixture.video));
    const row = page.locator('tbody tr[data-arn]').filter({ hasText: HOSTILE_KEY });
    await row.waitFor({ timeout: 60_000 });
    // The reader selects the video's key and puts the focus on the status filter.
    await row.evaluate((tr) => {
      (tr as HTMLElement & { mark?: string }).mark = 'first';
      window.getSelection()!.selectAllChildren(tr.querySelector('td.video a')!);
    });
    await page.focus('#exec-status');
    await page.waitForFunction(
      (key) =>
        [...document.querySelectorAll('tbody tr[data-arn]')].some(
          (tr) =>
            (tr as HTMLElement).dataset.status === 'SUCCEEDED' &&
            tr.querySelector('.video')?.textContent === key,
        ),
      HOSTILE_KEY,
      { timeout: 120_000, polling: 100 },
    );
    console.log(`console test: upload -> green in the page in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Three more updates of the list, then: the same row element, the selection, the focus.
    await whenResponses(page, '/api/executions', 3);
    const kept = await row.evaluate((tr) => ({
      mark: (tr as HTMLElement & { mark?: string }).mark,
      selection: window.getSelection()!.toString(),
      focus: document.activeElement?.id,
      colour: getComputedStyle(tr.querySelector('.pill')!).color,
      people: [...tr.querySelectorAll('td.recognized .person-name')].map((e) => e.textContent),
    }));
    expect(kept).toEqual({
      mark: 'first',
      selection: HOSTILE_KEY,
      focus: 'exec-status',
      colour: GREEN,
      people: expect.arrayContaining([PLAIN_NAME, HOSTILE_NAME]),
    });
    executionArn = (await row.getAttribute('data-arn'))!;
    await expectNoInjection(page, dialogs);
  }, 240_000);

  test('a video that cannot be decoded: its row turns red; the status filter and the search find it', async () => {
    await upload('not-a-video.mp4', Buffer.alloc(4096, 7));
    await page.goto(server.url);
    await page.waitForSelector('tbody tr[data-status="FAILED"]', { timeout: 90_000 });
    const row = page.locator('tbody tr[data-status="FAILED"]');
    expect(await row.locator('.recognized').textContent()).toMatch(/^Facerec\.BadInput: /);
    failedArn = (await row.getAttribute('data-arn'))!;
    await page.selectOption('#exec-status', 'FAILED');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr[data-arn]').length === 1);
    expect(await page.locator('tbody tr[data-arn]').getAttribute('data-status')).toBe('FAILED');
    expect(page.url()).toContain('status=FAILED');
    await page.selectOption('#exec-status', '');
    await page.fill('#exec-search', 'img-src');
    await page.waitForFunction(
      () =>
        document.querySelectorAll('tbody tr[data-arn]').length === 1 &&
        document.querySelector('#exec-count')?.textContent === '1–1 of 1',
    );
    expect(await page.locator('tbody tr[data-arn] td.video').textContent()).toBe(HOSTILE_KEY);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('exec-search');
    await page.fill('#exec-search', 'nothing-matches-this');
    await page.waitForSelector('p.empty:has-text("No execution matches")');
  }, 120_000);

  test('the execution page: details, everyone first, the graph with types, resources and retries, one Map iteration at a time, the table view', async () => {
    await page.goto(`${server.url}#/execution?arn=${encodeURIComponent(executionArn)}`);
    await page.waitForSelector('.execution[data-status="SUCCEEDED"]');
    expect(await page.title()).toBe(`${HOSTILE_KEY} · Execution · facerec`);
    // Details as the Step Functions console has them.
    const details = await page.locator('.details-panel dt').allTextContents();
    expect(details).toEqual(
      expect.arrayContaining(['Start time', 'End time', 'Duration', 'State transitions', 'Redrives']),
    );
    const startText = await page
      .locator('.details-panel .kv-row:has(dt:text-is("Start time")) dd')
      .textContent();
    expect(startText).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    // The result and its people come before the graph.
    const order = await page.evaluate(() =>
      [...document.querySelectorAll('.execution > section')].map((s) => s.className),
    );
    expect(order.findIndex((c) => c.includes('result-box'))).toBeLessThan(
      order.findIndex((c) => c.includes('graph-panel')),
    );
    expect(await page.locator('table.people td.person').allTextContents()).toEqual(
      expect.arrayContaining([PLAIN_NAME, HOSTILE_NAME]),
    );
    expect(await page.locator('table.people td.appears').first().textContent()).toMatch(/\d\.\d s/);
    expect(await page.locator('.unknown-count').textContent()).toMatch(/\d+ faces? stayed Unknown/);
    // The graph: every state that ran is green, with its type and resource.
    for (const state of [
      'Split video into frames',
      'Recognize faces in frame batches',
      'Recognize faces',
      'Write result',
    ])
      expect(await page.locator(`g.state[data-state="${state}"]`).getAttribute('data-status')).toBe(
        'SUCCEEDED',
      );
    expect(await page.locator('g.state[data-state="Splitting failed"]').getAttribute('data-status')).toBe(
      'NOT_RUN',
    );
    expect(
      await page.locator('g.state[data-state="Split video into frames"] .state-type').textContent(),
    ).toBe('Task · λ splitter');
    expect(
      await page
        .locator('g.state[data-state="Write result"] rect')
        .first()
        .evaluate((el) => getComputedStyle(el).fill),
    ).toBe('rgb(232, 245, 233)');
    // A state's detail: type, resource, retry rules, its input and output.
    await page.locator('g.state[data-state="Write result"]').click();
    await page.waitForSelector('.state-detail h3:has-text("Write result")');
    const stateText = await page.locator('.state-detail').textContent();
    expect(stateText).toContain('Lambda function: result');
    expect(stateText).toMatch(/Retry.*Facerec\.Transient.*4 attempts/s);
    expect(await page.locator('.state-detail .json-title').allTextContents()).toEqual([
      'Input (last run)',
      'Output (last run)',
    ]);
    // The Map: 2 iterations; iteration 1 alone.
    const options = await page.locator('#iteration option').allTextContents();
    expect(options).toEqual(['All 2 iterations', '#0 · Succeeded', '#1 · Succeeded']);
    await page.locator('g.state[data-state="Recognize faces"]').click();
    await page.waitForSelector('.state-detail h3:has-text("Recognize faces")');
    const runs = () => page.locator('.state-detail .kv-row:has(dt:text-is("Runs")) dd').textContent();
    expect(await runs()).toBe('2');
    await page.selectOption('#iteration', '1');
    await page.waitForFunction(() =>
      document.querySelector('.state-detail')?.textContent?.includes('(iteration 1)'),
    );
    expect(await runs()).toBe('1 (iteration 1)');
    const input = await page
      .locator('.state-detail .json-box:has(.json-title:text("Input")) .json-tree')
      .textContent();
    expect(input).toContain('"batch": 1');
    expect(
      await page.locator('g.state[data-state="Recognize faces"] .state-sub').textContent(),
    ).not.toContain('2×');
    // The table view: one row per state, with type and status.
    await page.click('button[data-arg="table"]');
    await page.waitForSelector('table.states');
    const rows = await page
      .locator('table.states tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [
          tr.getAttribute('data-state'),
          tr.children[1].textContent,
          tr.querySelector('.pill')!.getAttribute('data-status'),
        ]),
      );
    expect(rows).toEqual(
      expect.arrayContaining([
        ['Split video into frames', 'Task', 'SUCCEEDED'],
        ['Recognize faces in frame batches', 'Map', 'SUCCEEDED'],
        ['Recognize faces', 'Task', 'SUCCEEDED'],
        ['Processed', 'Succeed', 'SUCCEEDED'],
        ['Failed', 'Fail', 'NOT_RUN'],
      ]),
    );
    // The annotated frames load.
    await page.waitForFunction(() => {
      const im = document.querySelector('figure.frame img') as HTMLImageElement | null;
      return !!im && im.complete && im.naturalWidth > 100 && im.naturalHeight > 100;
    });
    await expectNoInjection(page, dialogs);
  }, 120_000);

  test('input and output pretty-printed, folded, copied; the history with absolute times, a filter and rows that open', async () => {
    await page.goto(`${server.url}#/execution?arn=${encodeURIComponent(executionArn)}`);
    await page.waitForSelector('.io-panel .json-tree');
    const inputBox = page.locator('.io-panel .json-box').first();
    expect(await inputBox.locator('.json-tree').textContent()).toContain(
      `"key": ${JSON.stringify(HOSTILE_KEY)}`,
    );
    // Folding: the top object closes and opens.
    const top = inputBox.locator('details.j-node').first();
    expect(await top.getAttribute('open')).toBe('');
    await top.locator('> summary').click();
    expect(await top.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    await top.locator('> summary').click();
    // Copy: the pretty-printed JSON reaches the clipboard.
    await inputBox.locator('button.copy').click();
    await page.waitForSelector('.io-panel button.copy[data-copied="yes"]');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(JSON.parse(copied).key).toBe(HOSTILE_KEY);
    expect(copied).toContain('\n  "key"');
    // The history: absolute times, a filter, a row that opens with the event's whole details.
    const total = await page.locator('table.events tr.event-row').count();
    expect(total).toBeGreaterThan(20);
    expect(await page.locator('table.events td.ts').first().textContent()).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/,
    );
    await page.fill('#events-filter', 'LambdaFunctionScheduled');
    await page.waitForFunction(
      (n) => document.querySelectorAll('table.events tr.event-row').length < n,
      total,
    );
    const types = await page.locator('table.events tr.event-row td:nth-child(3)').allTextContents();
    expect(new Set(types)).toEqual(new Set(['LambdaFunctionScheduled']));
    expect(await page.locator('table.events tr.event-row td:nth-child(5)').allTextContents()).toEqual(
      expect.arrayContaining(['facerec-splitter', 'facerec-recognition', 'facerec-result']),
    );
    const first = page.locator('table.events tr.event-row').first();
    await first.click();
    await page.waitForSelector('tr.event-details .json-title:text-is("Event details")');
    const eventText = await page.locator('tr.event-details .json-tree').textContent();
    expect(eventText).toContain('"resource": "facerec-splitter"');
    expect(eventText).not.toMatch(/arn:aws:lambda/);
    await first.click();
    await page.waitForFunction(() => !document.querySelector('tr.event-details'));
  }, 120_000);

  test('a failed video: its failure record first, the caught Split and the Fail state in the graph', async () => {
    await page.goto(`${server.url}#/execution?arn=${encodeURIComponent(failedArn)}`);
    await page.waitForSelector('.execution[data-status="FAILED"] .error-record');
    expect(await page.locator('.error-record').textContent()).toContain('Facerec.BadInput');
    expect(await page.locator('.result-box .note').textContent()).toContain('errors/not-a-video.json');
    const status = (state: string) =>
      page.locator(`g.state[data-state="${state}"]`).getAttribute('data-status');
    expect(await status('Split video into frames')).toBe('CAUGHT');
    expect(await status('Splitting failed')).toBe('SUCCEEDED');
    expect(await status('Write failure record')).toBe('SUCCEEDED');
    expect(await status('Failed')).toBe('FAILED');
    expect(await status('Write result')).toBe('NOT_RUN');
    expect(await page.locator('table.events tr.event-failed').count()).toBeGreaterThan(0);
  }, 60_000);

  test('the state machine page draws every state of the ASL file; the definition view shows the file', async () => {
    await page.goto(`${server.url}#/graph`);
    await page.waitForSelector('svg.graph');
    expect(await page.title()).toBe('State machine · facerec');
    const states = await page
      .locator('svg.graph g.state')
      .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-state')));
    // Every Map's placeholder (the long-video states brought two more Maps).
    const asl = readDefinition() as {
      States: Record<string, { ItemProcessor?: { States: Record<string, unknown> } }>;
    };
    const names = Object.entries(asl.States).flatMap(([name, st]) => [
      name,
      ...Object.keys(st.ItemProcessor?.States ?? {}),
    ]);
    expect(names).toEqual(expect.arrayContaining(['Extract segment', 'Recognize faces in batch']));
    expect(states).toEqual(expect.arrayContaining([...names, '__start__', '__end__']));
    expect(
      await page.locator('g.state[data-state="Recognize faces at scale"] > text.state-type').textContent(),
    ).toBe('Map · Distributed');
    expect(await page.locator('svg.graph path.edge-catch').count()).toBeGreaterThanOrEqual(4);
    await page.click('button[data-arg="definition"]');
    await page.waitForSelector('.definition .json-tree');
    expect(await page.title()).toBe('Definition · State machine · facerec');
    expect(await page.locator('.definition .json-tree').textContent()).toContain(
      '"StartAt": "Split video into frames"',
    );
  });

  test('the gallery is the one the pipeline reads, and a push shows without a reload', async () => {
    await page.goto(`${server.url}#/gallery`);
    await page.waitForSelector('.card');
    expect(await page.title()).toBe('Gallery · facerec');
    expect(await page.locator('#gallery-source').textContent()).toBe(
      `s3://${stack.info.buckets.meta}/gallery/gallery.json`,
    );
    expect((await page.locator('.card .person-name').allTextContents()).sort()).toEqual(
      [PLAIN_NAME, HOSTILE_NAME].sort(),
    );
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.card img')].every(
        (im) => (im as HTMLImageElement).complete && (im as HTMLImageElement).naturalWidth > 0,
      ),
    );
    expect(await page.locator('.card img').count()).toBe(2);
    await expectNoInjection(page, dialogs);
    // `facerec gallery push` of a gallery where one person has another name.
    const pushed = JSON.parse(readFileSync(fixture.galleryPath, 'utf8'));
    pushed.people[0].name = 'Grace Hopper';
    const t = localTarget(stack.info);
    await putGallery(t.s3, galleryLocation(stack.info.buckets), JSON.stringify(pushed));
    await t.close();
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('.card .person-name')].some((e) => e.textContent === 'Grace Hopper'),
      undefined,
      { timeout: 30_000 },
    );
  }, 60_000);

  test('every page at 800 px: no sideways scroll; the favicon', async () => {
    await page.setViewportSize({ width: 800, height: 900 });
    try {
      for (const [hash, ready] of [
        ['#/', 'tbody tr[data-arn]'],
        [`#/execution?arn=${encodeURIComponent(executionArn)}`, 'figure.frame img'],
        [`#/execution?arn=${encodeURIComponent(failedArn)}`, '.error-record'],
        ['#/graph', 'svg.graph'],
        ['#/definition', '.definition .json-tree'],
        ['#/gallery', '.card'],
      ] as const) {
        await page.goto(`${server.url}${hash}`);
        await page.waitForSelector(ready);
        await expectNoSidewaysScroll(page, hash);
      }
    } finally {
      await page.setViewportSize({ width: 1360, height: 900 });
    }
    const icon = await page.evaluate(async () => {
      const href = document.querySelector('link[rel="icon"]')!.getAttribute('href')!;
      const res = await fetch(href);
      return { href, status: res.status, type: res.headers.get('content-type') };
    });
    expect(icon).toEqual({ href: '/static/favicon.svg', status: 200, type: 'image/svg+xml' });
  }, 90_000);

  test('reports: a result and a failed video, each one self-contained file, offline, with its graph and history', async () => {
    // Away from the console first: its last polls are not the report's requests.
    await page.goto('about:blank');
    const requests: string[] = [];
    const onRequest = (r: { url(): string }) => requests.push(r.url());
    page.on('request', onRequest);
    try {
      const ok = await buildReport(HOSTILE_KEY, { out: '' }, localConsoleTarget(stack.info));
      expect(Object.keys(ok.data.images).length).toBeGreaterThan(0);
      expect(ok.data.execution?.executionArn).toBe(executionArn);
      const okFile = path.join(work, 'report.html');
      writeFileSync(okFile, ok.html);
      await page.goto(pathToFileURL(okFile).href);
      await page.waitForSelector('.execution[data-status="SUCCEEDED"]');
      await page.waitForFunction(() => {
        const im = document.querySelector('figure.frame img') as HTMLImageElement | null;
        return !!im && im.complete && im.naturalWidth > 0;
      });
      expect(await page.locator('table.people td.person').allTextContents()).toEqual(
        expect.arrayContaining([PLAIN_NAME, HOSTILE_NAME]),
      );
      expect(await page.locator('g.state[data-state="Write result"]').getAttribute('data-status')).toBe(
        'SUCCEEDED',
      );
      // The report's controls work without a server: a state, an event row.
      await page.locator('g.state[data-state="Write result"]').click();
      await page.waitForSelector('.state-detail h3:has-text("Write result")');
      await page.locator('table.events tr.event-row').first().click();
      await page.waitForSelector('tr.event-details .json-tree');
      const found = await page.evaluate(() => ({
        onerror: document.querySelectorAll('[onerror]').length,
        imgX: document.querySelectorAll('img[src="x"]').length,
        inlineScripts: [...document.querySelectorAll('script')].filter((s) => !s.src).length,
        srcScripts: [...document.querySelectorAll('script')].filter((s) => s.src).length,
      }));
      expect(found).toMatchObject({ onerror: 0, imgX: 0, srcScripts: 0 });

      const failed = await buildReport('not-a-video.mp4', { out: '' }, localConsoleTarget(stack.info));
      expect(failed.data.result).toBeUndefined();
      expect(failed.data.execution?.executionArn).toBe(failedArn);
      expect(failed.data.execution?.errorRecord).toMatchObject({ error: 'Facerec.BadInput', stage: 'split' });
      const failedFile = path.join(work, 'failed.html');
      writeFileSync(failedFile, failed.html);
      await page.goto(pathToFileURL(failedFile).href);
      await page.waitForSelector('.execution[data-status="FAILED"] .error-record');
      expect(await page.locator('g.state[data-state="Failed"]').getAttribute('data-status')).toBe('FAILED');
      expect(await page.locator('table.events tr.event-row').count()).toBeGreaterThan(10);
      expect(requests.filter((u) => !/^(file|data|about):/.test(u))).toEqual([]);
      expect(dialogs).toEqual([]);
    } finally {
      page.off('request', onRequest);
    }
  }, 120_000);

  test('the stack stops: a banner says so; a report still has the graph and history from its saved executions', async () => {
    await page.goto(server.url);
    await page.waitForSelector('tbody tr[data-arn]');
    expect(await page.locator('#banner').isHidden()).toBe(true);
    await stack.stop();
    stackStopped = true;
    await page.waitForSelector('#banner:not([hidden])', { timeout: 30_000 });
    expect(await page.locator('#banner').textContent()).toMatch(/stack stopped/);

    // `facerec report` with no stack running: the buckets and the journal it left.
    const saved = process.env.FACEREC_LOCAL_DIR;
    process.env.FACEREC_LOCAL_DIR = path.join(work, 'local');
    try {
      for (const [key, arn] of [
        [HOSTILE_KEY, executionArn],
        ['not-a-video.mp4', failedArn],
      ]) {
        const { data } = await buildReport(key, { out: '' });
        expect(data.execution?.executionArn).toBe(arn);
        expect(data.graph?.nodes.length).toBeGreaterThan(5);
        expect(data.execution!.events.length).toBeGreaterThan(10);
        expect(data.notes.join('\n')).toMatch(/no local stack runs/);
      }
    } finally {
      if (saved === undefined) delete process.env.FACEREC_LOCAL_DIR;
      else process.env.FACEREC_LOCAL_DIR = saved;
    }

    // The console itself stops (facerec up ends): the banner says that instead.
    await server.close();
    await page.waitForFunction(
      () => /console stopped answering/.test(document.querySelector('#banner')?.textContent ?? ''),
      undefined,
      {
        timeout: 30_000,
      },
    );
  }, 120_000);
});
