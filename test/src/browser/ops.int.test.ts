import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApi, TokenStore } from '@regwatch/api';
import { FeedSourceSchema, QUEUES } from '@regwatch/contracts';
import { silentLogger } from '@regwatch/logger';
import { bullPrefix, createQueue, createRedis, waitForRedis } from '@regwatch/queue';
import { type Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type BrowserContext, chromium, type Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, TEST_REDIS_URL, testPrefix } from '../helpers/index.js';

/** The Debian package; never a downloaded browser. `.ci/run` installs it. */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`SKIPPED ops browser test: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`);
}
const SCREENSHOT = fileURLToPath(new URL('../../../test-results/ops.png', import.meta.url));
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const JOB_ID = 'd-browser-1';

describe.skipIf(!hasChromium)('ops console in headless Chromium', () => {
  const prefix = testPrefix();
  let redis: Redis;
  let api: Awaited<ReturnType<typeof startApi>>;
  let deliveries: Queue;
  let browser: BrowserContext | undefined;
  let userDataDir = '';
  let adminToken = '';

  beforeAll(async () => {
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    redis = createRedis(TEST_REDIS_URL, 'producer');
    await waitForRedis(redis);
    api = await startApi({
      connection: redis,
      prefix,
      log: silentLogger(),
      host: '127.0.0.1',
      port: 0,
      rateLimit: false,
      requiredServices: [],
      fileFeeds: [FeedSourceSchema.parse({ id: 'fr-bis', url: 'https://example.com/feed', title: 'BIS <rules>' })],
    });
    adminToken = (await new TokenStore(redis, prefix).create('admin', 'browser test')).token;
    // A delivery that failed for good in a real worker, as the notifier's would.
    deliveries = createQueue(QUEUES.deliveries, { connection: redis, prefix });
    await deliveries.add(
      'deliver',
      { v: 1, deliveryId: JOB_ID, alertId: 'a-1', storyId: 's-1', subscriptionId: 'chips', channelKey: 'w0' },
      { jobId: JOB_ID, attempts: 1 },
    );
    const connection = createRedis(TEST_REDIS_URL, 'worker');
    const worker = new Worker(
      QUEUES.deliveries,
      async () => {
        throw new UnrecoverableError('WEBHOOK_GONE: hooks.example.com answered 410');
      },
      { connection, prefix: bullPrefix(prefix) },
    );
    try {
      await new Promise<void>((resolve) => worker.on('failed', (job) => job?.id === JOB_ID && resolve()));
    } finally {
      await worker.close();
      await connection.quit();
    }
    userDataDir = mkdtempSync(join(tmpdir(), 'regwatch-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await deliveries?.close();
    await api?.close();
    if (redis) {
      await deletePrefix(redis, prefix);
      await redis.quit();
    }
  });

  it('logs in, shows the queues, and retries a failed delivery', async () => {
    if (!browser) throw new Error('no browser');
    const page = await browser.newPage();
    // Everything the page loads comes from the api: the machine may be offline.
    const foreign: string[] = [];
    page.on('request', (req) => {
      if (!req.url().startsWith(api.url) && !req.url().startsWith('data:')) foreign.push(req.url());
    });

    await page.goto(`${api.url}/ops/queues`);
    expect(new URL(page.url()).pathname).toBe('/ops/login');
    await page.fill('#token', adminToken);
    await Promise.all([page.waitForURL(`${api.url}/ops/`), page.click('button[type=submit]')]);
    await expect.poll(() => page.locator('#feed-health').textContent()).toContain('BIS <rules>');

    await page.goto(`${api.url}/ops/queues`);
    for (const name of ['polls', 'items', 'alerts', 'deliveries']) {
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: 10_000 });
    }
    await page.goto(`${api.url}/ops/queues/queue/deliveries?status=failed`);
    await page.getByText(JOB_ID).first().waitFor({ timeout: 10_000 });
    // Open the failed job, find its Retry action (an icon button with a tooltip) and use it.
    await page.getByText(JOB_ID).first().click();
    await page.waitForURL(/\/ops\/queues\/queue\/deliveries\/d-browser-1/);
    await page.getByText('WEBHOOK_GONE: hooks.example.com answered 410').first().waitFor();
    const actions = page.locator('[data-base-ui-tooltip-trigger] button');
    await actions.first().waitFor();
    let retry: Locator | undefined;
    for (let i = 0; i < (await actions.count()) && !retry; i++) {
      await actions.nth(i).hover();
      const tip = page.getByText('Retry', { exact: true }).first();
      const shown = await tip.waitFor({ state: 'visible', timeout: 2_000 }).then(
        () => true,
        () => false,
      );
      if (shown) retry = actions.nth(i);
    }
    if (!retry) throw new Error(`no Retry action on the job page (${await actions.count()} actions)`);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const answered = page.waitForResponse(
      (r) => r.request().method() === 'PUT' && r.url().endsWith(`/${JOB_ID}/retry`),
      { timeout: 5_000 },
    );
    await retry.click();
    // bull-board asks "Are you sure?" first.
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    expect((await answered).status()).toBeLessThan(300);
    // Redis says so: the job left the failed set and waits for a worker again.
    await expect.poll(() => deliveries.getJobState(JOB_ID)).toBe('waiting');
    expect(await deliveries.getJobCounts('failed')).toMatchObject({ failed: 0 });
    console.log(`ops console screenshot: ${SCREENSHOT}`);
    expect(foreign).toEqual([]);
  });
});
