/// <reference lib="dom" />
/**
 * Checks the console's browser tests make on any page: nothing from the data became markup or
 * ran, the page does not scroll sideways, and a wait for the page's next updates (by its requests,
 * not by time).
 */
import type { Page, Response } from 'playwright-core';
import { hasChromium, NO_CHROMIUM_MESSAGE, type Browser } from '#test/support/chromium.js';

/** `describe` where /usr/bin/chromium is, else `describe.skip` with a message saying why. */
export function describeInChromium(): jest.Describe {
  if (hasChromium()) return describe;
  console.warn(NO_CHROMIUM_MESSAGE);
  return describe.skip;
}

/** A new page whose dialogs (alert, confirm…: what injected script would open) are dismissed and
 * recorded in `dialogs`. */
export async function pageRecordingDialogs(browser: Browser, dialogs: string[]): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return page;
}

/** No element or script from data (the hostile names are `<img src=x onerror=…>` and
 * `<script>`), no dialog. */
export async function expectNoInjection(page: Page, dialogs: string[]): Promise<void> {
  const found = await page.evaluate(() => ({
    onerror: document.querySelectorAll('[onerror]').length,
    imgX: document.querySelectorAll('img[src="x"]').length,
    inlineScripts: [...document.querySelectorAll('script')].filter((s) => !s.getAttribute('src')).length,
  }));
  expect(found).toEqual({ onerror: 0, imgX: 0, inlineScripts: 0 });
  expect(dialogs).toEqual([]);
}

/** The page is no wider than the window (what scrolls, scrolls inside its own box). */
export async function expectNoSidewaysScroll(page: Page, label: string): Promise<void> {
  const size = await page.evaluate(() => ({
    scroll: document.scrollingElement!.scrollWidth,
    client: document.scrollingElement!.clientWidth,
  }));
  expect([label, size.scroll <= size.client]).toEqual([label, true]);
}

/** Resolves after `n` more answers to requests whose URL holds `part`. */
export function whenResponses(page: Page, part: string, n: number, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(() => {
      page.off('response', on);
      reject(new Error(`${n} answers to ${part} did not come in ${timeoutMs} ms (${seen} did)`));
    }, timeoutMs);
    const on = (r: Response) => {
      if (!r.url().includes(part)) return;
      if (++seen < n) return;
      clearTimeout(timer);
      page.off('response', on);
      resolve();
    };
    page.on('response', on);
  });
}
