import { randomBytes } from 'node:crypto';
import { type ItemJob, itemsOfJob, QUEUES, type Subscription } from '@regwatch/contracts';
import {
  bullPrefix,
  countJobs,
  createQueue,
  createRedis,
  duplicateRedis,
  isCluster,
  masterNodes,
  readHeartbeats,
  scanKeys,
  startHeartbeat,
  waitForRedis,
} from '@regwatch/queue';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CUSTOMS_STORY,
  deletePrefix,
  type FeedServer,
  GPU_REVIEW,
  renderRss,
  startFeedServer,
  startPipeline,
  startWebhookReceiver,
  testPrefix,
  type WebhookReceiver,
} from '../helpers/index.js';
import { clusterUnavailableReason, type LocalCluster, startLocalCluster } from './redis-cluster.js';

const unavailable = clusterUnavailableReason();
if (unavailable) console.warn(unavailable);

describe.skipIf(unavailable !== undefined)('pipeline on a real Redis Cluster (3 masters, 3 replicas)', () => {
  const prefix = testPrefix();
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  let cluster: LocalCluster;
  let redis: Redis;
  let producer: Redis;
  let feeds: FeedServer;
  let hooks: WebhookReceiver;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    cluster = await startLocalCluster();
    redis = createRedis({ clusterNodes: cluster.nodes }, 'worker');
    producer = createRedis({ clusterNodes: cluster.nodes }, 'producer');
    await waitForRedis(redis, 10_000);
    await waitForRedis(producer, 10_000);
    feeds = await startFeedServer();
    hooks = await startWebhookReceiver(secret);
    feeds.set('/wire.xml', renderRss('cluster', feeds.url, [CUSTOMS_STORY, GPU_REVIEW]));
    const subscriptions: Subscription[] = [
      {
        id: 'chips-team',
        team: 'chips',
        filter: { topics: ['customs_enforcement', 'import_restrictions', 'export_controls'] },
        channels: [{ type: 'webhook', url: hooks.url, secret }],
        mode: 'immediate',
        paused: false,
      },
    ];
    const pipeline = await startPipeline({
      connection: redis,
      prefix,
      subscriptions,
      feed: { id: 'wire', url: `${feeds.url}/wire.xml` },
      email: { outboxDir: '/nonexistent-no-email-channel', from: 'regwatch <alerts@regwatch.test>' },
      unsubscribeSecret: 'cluster-unsubscribe-secret',
    });
    const heartbeat = startHeartbeat(redis, prefix, 'poller');
    closers.push(
      () => heartbeat.close(),
      () => pipeline.close(),
    );
  }, 60_000);

  afterAll(async () => {
    try {
      for (const close of closers) await close();
      if (redis) {
        await deletePrefix(redis, prefix);
        expect(await scanKeys(redis, `${bullPrefix(prefix)}*`)).toEqual([]);
      }
      await Promise.all([redis?.quit(), producer?.quit(), feeds?.close(), hooks?.close()]);
    } finally {
      await cluster?.stop();
    }
  }, 30_000);

  it('delivers the export-control story once, verified, and nothing for the review', async () => {
    expect(isCluster(redis)).toBe(true);
    const [hook] = await hooks.waitFor(1, 20_000);
    expect(hook!.payload.type).toBe('alert.created');
    expect(hook!.payload.data.title).toBe(CUSTOMS_STORY.title);
    expect(hooks.rejected).toBe(0);

    const items = createQueue(QUEUES.items, { connection: redis, prefix });
    const alerts = createQueue(QUEUES.alerts, { connection: redis, prefix });
    const deliveries = createQueue(QUEUES.deliveries, { connection: redis, prefix });
    try {
      const settled = async () => {
        const counts = Object.values(await countJobs([items, alerts, deliveries]));
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
      expect(await deliveries.getCompletedCount()).toBe(1);
      expect(hooks.received).toHaveLength(1);
    } finally {
      await Promise.all([items.close(), alerts.close(), deliveries.close()]);
    }
  });

  it('keeps every key of the prefix in one hash slot, on one master', async () => {
    const masters = masterNodes(redis);
    expect(masters).toHaveLength(3);
    const perMaster = await Promise.all(masters.map((m) => scanKeys(m, `${bullPrefix(prefix)}*`)));
    const holding = perMaster.filter((keys) => keys.length > 0);
    expect(holding).toHaveLength(1);
    const slots = new Set(
      await Promise.all(holding[0]!.slice(0, 50).map((k) => redis.cluster('KEYSLOT', k) as Promise<number>)),
    );
    expect(slots.size).toBe(1);
    // What the cluster-wide scan finds is exactly what that one master holds.
    expect((await scanKeys(redis, `${bullPrefix(prefix)}*`)).sort()).toEqual([...holding[0]!].sort());
  });

  it('finds heartbeats and counts queues through a cluster connection (readyz and ops view)', async () => {
    const beats = await readHeartbeats(redis, prefix);
    expect(beats.map((b) => b.service)).toContain('poller');
    const polls = createQueue(QUEUES.polls, { connection: producer, prefix });
    try {
      const counts = await countJobs([polls]);
      expect(counts[QUEUES.polls]).toMatchObject({ failed: 0 });
      expect(await producer.ping()).toBe('PONG');
    } finally {
      await polls.close();
    }
  });

  it('carries pub/sub (catalog change announcements) through a duplicated subscriber', async () => {
    const subscriber = duplicateRedis(producer, { enableOfflineQueue: true, maxRetriesPerRequest: null });
    try {
      const channel = `${bullPrefix(prefix)}:catalog:changed`;
      const got = new Promise<string>((resolve) => subscriber.on('message', (_c: string, m: string) => resolve(m)));
      await subscriber.subscribe(channel);
      await producer.publish(channel, '42');
      expect(await got).toBe('42');
    } finally {
      subscriber.disconnect();
    }
  });
});
