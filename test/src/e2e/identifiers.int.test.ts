import { randomBytes } from 'node:crypto';
import { QUEUES, type Subscription, SubscriptionSchema } from '@regwatch/contracts';
import { createQueue } from '@regwatch/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deletePrefix,
  type FeedServer,
  renderRss,
  type SmtpSink,
  startFeedServer,
  startPipeline,
  startSmtpSink,
  startWebhookReceiver,
  testPrefix,
  testRedis,
  type WebhookReceiver,
  type WireStory,
} from '../helpers/index.js';

// Two export-control stories on one feed: one names a sub-paragraph of the watched ECCN, the other
// a different ECCN. Both are flagged; only the first may reach the team that watches 3A090.
const NAMES_3A090A: WireStory = {
  slug: 'bis-3a090a-licences',
  title: 'US tightens export controls on advanced AI chips classified under 3A090.a',
  summary:
    'The Bureau of Industry and Security said exporters now need a licence to ship integrated circuits under ECCN 3A090.a to China; the interim final rule amends 15 CFR 744.',
};
const NAMES_3A001: WireStory = {
  slug: 'bis-3a001-russia',
  title: 'Commerce requires licences for 3A001 electronics bound for Russia',
  summary:
    'BIS said shipments of items classified 3A001 to Russia and Belarus now need an export licence under the Export Administration Regulations, closing a gap used by distributors in third countries.',
};

describe('identifier subscriptions end to end (real Redis, webhook receivers verifying with standardwebhooks)', () => {
  const prefix = testPrefix();
  const redis = testRedis();
  const watchSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const allSecret = `whsec_${randomBytes(24).toString('base64')}`;
  let feeds: FeedServer;
  let watcher: WebhookReceiver;
  let everything: WebhookReceiver;
  let smtp: SmtpSink;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    feeds = await startFeedServer();
    watcher = await startWebhookReceiver(watchSecret);
    everything = await startWebhookReceiver(allSecret);
    smtp = await startSmtpSink();
    feeds.set('/bis.xml', renderRss('bis', feeds.url, [NAMES_3A090A, NAMES_3A001]));
    // Parsed as the config loader and the api parse them, so the identifier filter is validated.
    const subscriptions: Subscription[] = [
      SubscriptionSchema.parse({
        id: 'watch-3a090',
        team: 'ai-chips',
        filter: { identifiers: ['3A090'] },
        channels: [{ type: 'webhook', url: watcher.url, secret: watchSecret }],
      }),
      // Sees every alert, so the 3A001 story is known to have gone through the pipeline.
      SubscriptionSchema.parse({
        id: 'everything',
        team: 'ops',
        channels: [{ type: 'webhook', url: everything.url, secret: allSecret }],
      }),
    ];
    const pipeline = await startPipeline({
      connection: redis,
      prefix,
      subscriptions,
      feed: { id: 'bis', url: `${feeds.url}/bis.xml` },
      email: { smtpUrl: smtp.url, from: 'regwatch <alerts@regwatch.test>' },
      unsubscribeSecret: 'e2e-identifiers-unsubscribe-secret',
    });
    closers.push(() => pipeline.close());
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await deletePrefix(redis, prefix);
    await redis.quit();
    await Promise.all([feeds.close(), watcher.close(), everything.close(), smtp.close()]);
  });

  it('delivers the story naming 3A090.a to the team watching 3A090, and not the one naming 3A001', async () => {
    // Both stories reach the unfiltered subscription: the pipeline handled both.
    const all = await everything.waitFor(2);
    expect(all.map((h) => h.payload.data.title).sort()).toEqual([NAMES_3A001.title, NAMES_3A090A.title].sort());
    const other = all.find((h) => h.payload.data.title === NAMES_3A001.title)!;
    expect(other.payload.data['identifiers']).toEqual([{ kind: 'eccn', value: '3A001' }]);

    const [hook] = await watcher.waitFor(1);
    expect(hook!.payload.type).toBe('alert.created');
    expect(hook!.payload.data.title).toBe(NAMES_3A090A.title);
    expect(hook!.payload.data['identifiers']).toEqual([
      { kind: 'eccn', value: '3A090.a' },
      { kind: 'cfr', value: '15 CFR 744' },
    ]);
    expect(hook!.payload.data['why']).toEqual(['identifier:3A090']);

    // Let every queue drain before concluding that the 3A001 story was not sent to the watcher.
    const queues = [QUEUES.items, QUEUES.alerts, QUEUES.deliveries].map((name) =>
      createQueue(name, { connection: redis, prefix }),
    );
    try {
      const settled = async () => {
        const counts = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed')));
        return counts.every((c) => (c['waiting'] ?? 0) + (c['active'] ?? 0) + (c['delayed'] ?? 0) === 0);
      };
      const deadline = Date.now() + 10_000;
      while (!(await settled()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await settled()).toBe(true);
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
    expect(watcher.received).toHaveLength(1);
    expect(watcher.rejected).toBe(0);
    expect(everything.received).toHaveLength(2);
  });
});
