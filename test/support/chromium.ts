/** Headless Chromium (Debian's `chromium` package) driven by playwright-core: the console tests
 * and the screenshot script. Nothing is downloaded: the browser is the system's. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's package; FACEREC_TEST_CHROMIUM points elsewhere (a missing path checks the skip). */
export const CHROMIUM = process.env.FACEREC_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = () => existsSync(CHROMIUM);
export const NO_CHROMIUM_MESSAGE = `SKIP: ${CHROMIUM} is absent, so the console's browser tests do not run (install it: apt-get install -y chromium; .ci/run does)`;

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh profile in a temp folder, no network beyond what the page asks of 127.0.0.1. */
export async function launchChromium(viewport = { width: 1360, height: 900 }): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'facerec-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
