/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The console in a real browser (headless Chromium): a local stack with real handlers, a video
 * uploaded, its execution watched until it goes green in the page, the result opened, the
 * annotated frame loaded; the gallery with its photos; the self-contained report. A person's name
 * and a video key that are markup must stay text: no dialog, no injected element.
 * Skips (with a message) when /usr/bin/chromium is absent.
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
import { startLocalStack, type LocalStack } from '#infra/local/stack.js';
import { hasChromium, launchChromium, NO_CHROMIUM_MESSAGE, type Browser } from '#test/support/chromium.js';
import { tempDir } from '#test/support/videos.js';
import { consoleFixture, HOSTILE_KEY, HOSTILE_NAME, PLAIN_NAME, type ConsoleFixture } from './fixture.js';
import { quietLocalStackEnv } from '#test/support/stack.js';

const run = hasChromium() ? describe : describe.skip;
if (!hasChromium()) console.warn(NO_CHROMIUM_MESSAGE);

run('console in headless Chromium', () => {
  let work: string;
  let fixture: ConsoleFixture;
  let stack: LocalStack;
  let server: ConsoleServer;
  let closeTarget: () => void;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  let executionArn: string;

  beforeAll(async () => {
    work = tempDir('facerec-console-');
    fixture = await consoleFixture(work);
    stack = await startLocalStack({
      env: {
        ...quietLocalStackEnv(path.join(work, 'local')),
        FACEREC_GALLERY: fixture.galleryPath,
        FACEREC_PROFILE: 'default',
        FACEREC_FRAMES: '3',
      },
    });
    const opened = localConsoleTarget(stack.info, { people: fixture.peopleDir });
    closeTarget = opened.close;
    server = await startConsoleServer({ source: new ConsoleSource(opened.target), port: 0, pollMs: 300 });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    closeTarget?.();
    await stack?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Nothing from the data became markup or ran. */
  async function expectNoInjection() {
    const found = await page.evaluate(() => ({
      onerror: document.querySelectorAll('[onerror]').length,
      imgX: document.querySelectorAll('img[src="x"]').length,
      scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src') ?? 'inline'),
    }));
    expect(found.onerror).toBe(0);
    expect(found.imgX).toBe(0);
    expect(found.scripts.every((s) => s !== 'inline')).toBe(true);
    expect(dialogs).toEqual([]);
  }

  test('an uploaded video goes green in the executions list; its result shows the annotated frames', async () => {
    await page.goto(server.url);
    await page.waitForSelector('h2:has-text("Executions")');
    const t0 = Date.now();
    const target = localConsoleTarget(stack.info);
    await target.target.s3.send(
      new PutObjectCommand({
        Bucket: stack.info.buckets.input,
        Key: HOSTILE_KEY,
        Body: readFileSync(fixture.video),
        ContentType: 'video/mp4',
      }),
    );
    target.close();
    // The row appears (RUNNING or already done), then turns SUCCEEDED without a reload.
    const row = page.locator('tbody tr[data-arn]').filter({ hasText: HOSTILE_KEY });
    await row.waitFor({ timeout: 30_000 });
    await page.waitForFunction(
      (key) =>
        [...document.querySelectorAll('tbody tr[data-arn]')].some(
          (tr) =>
            (tr as HTMLElement).dataset.status === 'SUCCEEDED' &&
            tr.querySelector('.video')?.textContent === key,
        ),
      HOSTILE_KEY,
      { timeout: 120_000, polling: 200 },
    );
    const pillColour = await row.locator('.pill').evaluate((el) => getComputedStyle(el).color);
    expect(pillColour).toBe('rgb(46, 125, 50)');
    executionArn = (await row.getAttribute('data-arn'))!;
    console.log(`console test: upload -> green in the page in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await expectNoInjection();

    await row.locator('td.video a').click();
    await page.waitForSelector('.execution[data-status="SUCCEEDED"]');
    // The graph: every state that ran is green, the failure path did not run.
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
    const fill = await page
      .locator('g.state[data-state="Write result"] rect')
      .first()
      .evaluate((el) => getComputedStyle(el).fill);
    expect(fill).toBe('rgb(232, 245, 233)');
    // A state's detail opens on click.
    await page.locator('g.state[data-state="Write result"]').click();
    await page.waitForSelector('.state-detail h3:has-text("Write result")');
    expect(await page.locator('.state-detail').textContent()).toContain('Output (last run)');
    // The history.
    expect(await page.locator('table.events tbody tr').count()).toBeGreaterThan(10);
    // The result: both people, the hostile name as plain text, the annotated frames loaded.
    const people = await page.locator('table.people td.person').allTextContents();
    expect(people).toEqual(expect.arrayContaining([PLAIN_NAME, HOSTILE_NAME]));
    expect(await page.locator('table.timeline tr[data-person] td.seen').count()).toBeGreaterThan(0);
    const img = page.locator('figure.frame img').first();
    await img.waitFor();
    await page.waitForFunction(() => {
      const im = document.querySelector('figure.frame img') as HTMLImageElement | null;
      return !!im && im.complete && im.naturalWidth > 0;
    });
    const size = await img.evaluate((im) => [
      (im as HTMLImageElement).naturalWidth,
      (im as HTMLImageElement).naturalHeight,
    ]);
    expect(size[0]).toBeGreaterThan(100);
    expect(size[1]).toBeGreaterThan(100);
    await expectNoInjection();
  }, 180_000);

  test('a video that cannot be decoded: its row turns red, the graph shows the caught Split and the Fail state', async () => {
    const target = localConsoleTarget(stack.info);
    await target.target.s3.send(
      new PutObjectCommand({
        Bucket: stack.info.buckets.input,
        Key: 'not-a-video.mp4',
        Body: Buffer.alloc(4096, 7),
        ContentType: 'video/mp4',
      }),
    );
    target.close();
    await page.goto(server.url);
    const row = page.locator('tbody tr[data-arn]').filter({ hasText: 'not-a-video.mp4' });
    await page.waitForSelector('tbody tr[data-status="FAILED"]', { timeout: 60_000 });
    expect(await row.locator('.recognized').textContent()).toMatch(/^Facerec\.BadInput: /);
    await row.locator('td.video a').click();
    await page.waitForSelector('.execution[data-status="FAILED"]');
    const status = (state: string) =>
      page.locator(`g.state[data-state="${state}"]`).getAttribute('data-status');
    expect(await status('Split video into frames')).toBe('CAUGHT');
    expect(await status('Splitting failed')).toBe('SUCCEEDED');
    expect(await status('Write failure record')).toBe('SUCCEEDED');
    expect(await status('Failed')).toBe('FAILED');
    expect(await status('Write result')).toBe('NOT_RUN');
    expect(await page.locator('.result-box .note').textContent()).toContain('errors/not-a-video.json');
    expect(await page.locator('table.events tr.event-failed').count()).toBeGreaterThan(0);
  }, 90_000);

  test('the state machine page draws every state of the ASL file', async () => {
    await page.goto(`${server.url}#/graph`);
    await page.waitForSelector('svg.graph');
    const states = await page
      .locator('svg.graph g.state')
      .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-state')));
    const asl = JSON.parse(
      readFileSync(path.resolve('statemachine/pipeline.asl.json'), 'utf8').replace(
        /\$\{MapMaxConcurrency\}/,
        '1',
      ),
    );
    const names = [
      ...Object.keys(asl.States),
      ...Object.keys(asl.States['Recognize faces in frame batches'].ItemProcessor.States),
    ];
    expect(states).toEqual(expect.arrayContaining([...names, '__start__', '__end__']));
    expect(await page.locator('svg.graph path.edge-catch').count()).toBeGreaterThanOrEqual(4);
  });

  test('the gallery lists the enrolled people with their photos, names as text', async () => {
    await page.goto(`${server.url}#/gallery`);
    await page.waitForSelector('.card');
    expect((await page.locator('.card .person-name').allTextContents()).sort()).toEqual(
      [PLAIN_NAME, HOSTILE_NAME].sort(),
    );
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.card img')].every(
        (im) => (im as HTMLImageElement).complete && (im as HTMLImageElement).naturalWidth > 0,
      ),
    );
    expect(await page.locator('.card img').count()).toBe(2);
    await expectNoInjection();
  });

  test('the report is one self-contained file that shows the same view, offline', async () => {
    const { html, data } = await buildReport(HOSTILE_KEY, { out: '' }, localConsoleTarget(stack.info));
    expect(Object.keys(data.images).length).toBeGreaterThan(0);
    expect(data.execution?.executionArn).toBe(executionArn);
    const file = path.join(work, 'report.html');
    writeFileSync(file, html);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
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
    // Only the file and its data: URIs, nothing from a network.
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    const found = await page.evaluate(() => ({
      onerror: document.querySelectorAll('[onerror]').length,
      imgX: document.querySelectorAll('img[src="x"]').length,
      scripts: document.querySelectorAll('script').length,
    }));
    expect(found).toEqual({ onerror: 0, imgX: 0, scripts: 4 });
    expect(dialogs).toEqual([]);
  }, 120_000);
});
