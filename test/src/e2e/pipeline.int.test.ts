import { randomBytes } from 'node:crypto';
import { type ItemJob, itemsOfJob, QUEUES, type Subscription } from '@regwatch/contracts';
import { bullPrefix, createQueue } from '@regwatch/queue';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CUSTOMS_STORY,
  deletePrefix,
  type FeedServer,
  GPU_REVIEW,
  renderRss,
  type SmtpSink,
  startFeedServer,
  startPipeline,
  startSmtpSink,
  startWebhookReceiver,
  testPrefix,
  testRedis,
  type WebhookReceiver,
} from '../helpers/index.js';

describe('pipeline end to end (real Redis, SMTP and webhook receiver)', () => {
  const prefix = testPrefix();
  const redis = testRedis();
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  let feeds: FeedServer;
  let hooks: WebhookReceiver;
  let smtp: SmtpSink;
  let events: QueueEvents;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    feeds = await startFeedServer();
    hooks = await startWebhookReceiver(secret);
    smtp = await startSmtpSink();
    feeds.set('/wire.xml', renderRss('e2e', feeds.url, [CUSTOMS_STORY, GPU_REVIEW]));
    const subscriptions: Subscription[] = [
      {
        id: 'chips-team',
        team: 'chips',
        filter: { topics: ['customs_enforcement', 'import_restrictions', 'export_controls'] },
        channels: [
          { type: 'webhook', url: hooks.url, secret },
          { type: 'email', to: ['compliance@example.com'] },
        ],
        mode: 'immediate',
        paused: false,
      },
    ];
    events = new QueueEvents(QUEUES.polls, { connection: redis.duplicate(), prefix: bullPrefix(prefix) });
    await events.waitUntilReady();
    const pipeline = await startPipeline({
      connection: redis,
      prefix,
      subscriptions,
      feed: { id: 'wire', url: `${feeds.url}/wire.xml` },
      email: { smtpUrl: smtp.url, from: 'regwatch <alerts@regwatch.test>' },
      unsubscribeSecret: 'e2e-unsubscribe-secret',
    });
    closers.push(
      () => pipeline.close(),
      () => events.close(),
    );
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await deletePrefix(redis, prefix);
    await redis.quit();
    await Promise.all([feeds.close(), hooks.close(), smtp.close()]);
  });

  it('delivers one verified webhook and one email for the export-control story, nothing for the review', async () => {
    const [hook] = await hooks.waitFor(1);
    const [mail] = await smtp.waitFor(1);
    const canonical = `${feeds.url}/2026/11/china-customs-chip-inspections`;

    expect(hook!.payload.type).toBe('alert.created');
    expect(hook!.payload.data.title).toBe(CUSTOMS_STORY.title);
    expect(hook!.payload.data.url).toBe(canonical);
    expect(hook!.payload.data).toMatchObject({
      topics: expect.arrayContaining(['customs_enforcement']),
      jurisdictions: expect.arrayContaining(['CN']),
      entities: expect.arrayContaining(['NVIDIA', 'H20']),
    });
    expect(hooks.rejected).toBe(0);

    expect(mail!.envelope.to).toEqual(['compliance@example.com']);
    expect(mail!.mail.subject).toMatch(
      /^\[regwatch\] (NOTICE|HIGH|CRITICAL) Chinese customs now inspect every semiconductor shipment/,
    );
    expect(mail!.mail.text).toContain(canonical);
    expect(mail!.mail.html || '').toContain(canonical);

    // Let the rest of the pipeline settle, then check the review produced nothing.
    const items = createQueue(QUEUES.items, { connection: redis, prefix });
    const alerts = createQueue(QUEUES.alerts, { connection: redis, prefix });
    const deliveries = createQueue(QUEUES.deliveries, { connection: redis, prefix });
    try {
      const settled = async () => {
        const counts = await Promise.all(
          [items, alerts, deliveries].map((q) => q.getJobCounts('waiting', 'active', 'delayed')),
        );
        return counts.every((c) => (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0);
      };
      const deadline = Date.now() + 10_000;
      while (!(await settled()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // Both items of the poll travelled in one `items` job.
      const done = await items.getCompleted();
      expect(done).toHaveLength(1);
      expect(itemsOfJob(done[0]!.data as ItemJob)).toHaveLength(2);
      // The classifier routes in the item's job: nothing goes through `alerts` (kept for older classifiers' jobs).
      expect(await alerts.getCompletedCount()).toBe(0);
      expect(hooks.received).toHaveLength(1);
      expect(smtp.received).toHaveLength(1);
    } finally {
      await Promise.all([items.close(), alerts.close(), deliveries.close()]);
    }
  });

  it('polling the same feed again queues nothing new and alerts nobody', async () => {
    const polls = createQueue(QUEUES.polls, { connection: redis, prefix });
    try {
      // A changed ETag forces a full parse: the items are the same, so none is new.
      feeds.set('/wire.xml', renderRss('e2e', feeds.url, [CUSTOMS_STORY, GPU_REVIEW]));
      const job = await polls.add('poll', { v: 1, feedId: 'wire' });
      const outcome = await job.waitUntilFinished(events, 10_000);
      expect(outcome).toMatchObject({ status: 'ok', items: 2, newItems: 0 });
      // And an unchanged feed costs a 304 and no parse.
      const again = await polls.add('poll', { v: 1, feedId: 'wire' });
      expect(await again.waitUntilFinished(events, 10_000)).toEqual({ status: 'not-modified' });
      await new Promise((r) => setTimeout(r, 500));
      expect(hooks.received).toHaveLength(1);
      expect(smtp.received).toHaveLength(1);
    } finally {
      await polls.close();
    }
  });
});
