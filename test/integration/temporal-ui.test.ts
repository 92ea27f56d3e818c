import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { chromium, type Browser } from 'playwright-core';
import type { MikroORM } from '../../src/db/orm.js';
import { eventFinishedSignal, searchAttributes } from '../../src/temporal/contract.js';
import { requireEnv, testEnvKeys } from '../support/environment.js';
import { startSignupWorkflow } from '../support/signup-flows.js';
import { connectTestClient, insertEvent, openTestOrm, startTestWorker, type RunningWorker } from '../support/stack.js';

/**
 * The Temporal Web UI of the test stack's dev server, driven by the system's Chromium (never a
 * downloaded browser): our search attributes are usable in its visibility queries.
 */
const chromiumPath = '/usr/bin/chromium';
const haveChromium = existsSync(chromiumPath);
if (!haveChromium) {
  console.warn(`temporal-ui.test.ts: SKIPPED, no browser at ${chromiumPath} (apt-get install chromium to run it)`);
}
const describeWithBrowser = haveChromium ? describe : describe.skip;

const screenshotPath = join(process.cwd(), 'test-artifacts', 'temporal-ui-signup.png');

describeWithBrowser('Temporal Web UI (Chromium)', () => {
  let orm: MikroORM;
  let client: Client;
  let worker: RunningWorker;
  let browser: Browser;

  beforeAll(async () => {
    orm = await openTestOrm();
    client = await connectTestClient();
    [worker, browser] = await Promise.all([
      startTestWorker(orm),
      chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] }),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    await client?.connection.close();
    await orm?.close(true);
  });

  it('lists a signup workflow found by its EventId search attribute', async () => {
    const uiUrl = requireEnv(testEnvKeys.temporalUi);
    const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
    const event = await insertEvent(orm, { capacity: 1 });
    const { signupId, handle } = await startSignupWorkflow({ orm, client, taskQueue: worker.taskQueue }, event.id, 30);
    const workflowId = `signup-${signupId}`;

    const query = `${searchAttributes.eventId.name} = "${event.id}"`;
    const listUrl = `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(query)}`;
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      const row = page.getByRole('link', { name: workflowId, exact: true });
      // Visibility is eventually consistent: reload until the row shows up.
      const deadline = Date.now() + 20_000;
      for (;;) {
        await page.goto(listUrl, { waitUntil: 'domcontentloaded' });
        try {
          await row.waitFor({ state: 'visible', timeout: 3_000 });
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
        }
      }
      await expect(row.isVisible()).resolves.toBe(true);
      // Only the workflows of this fresh event are listed: the filter took effect.
      await expect(page.getByRole('link', { name: /^signup-/ }).count()).resolves.toBe(1);
      // The query the UI ran is ours, not a default listing that happens to show the row.
      expect(new URL(page.url()).searchParams.get('query') ?? '').toContain(event.id);

      mkdirSync(join(process.cwd(), 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: screenshotPath, fullPage: true });
      expect(existsSync(screenshotPath)).toBe(true);
    } finally {
      await page.close();
      await handle.signal(eventFinishedSignal);
      await handle.result();
    }
  }, 30_000);
});
