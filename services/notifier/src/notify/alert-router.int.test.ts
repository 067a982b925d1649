import { randomUUID } from 'node:crypto';
import { type Alert, QUEUES, type Subscription, SubscriptionSchema } from '@regwatch/contracts';
import { createQueue, createRedis, duplicateRedis } from '@regwatch/queue';
import { afterAll, describe, expect, it } from 'vitest';
import { createAlertRouter } from './alert-router.js';
import { channelKey, deliveryIdFor } from './keys.js';

const redis = createRedis(process.env.REDIS_URL, 'worker');
const prefixes: string[] = [];

afterAll(async () => {
  for (const p of prefixes) {
    const keys = await redis.keys(`*${p}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

function alert(id: string, storyId: string, feedId: string): Alert {
  return {
    id,
    storyId,
    itemId: `i-${id}`,
    feedId,
    title: 'Chinese customs step up inspections of semiconductor shipments',
    summary: 'Customs now inspect every semiconductor shipment.',
    published: '2026-11-28T10:00:00Z',
    score: 0.9,
    severity: 'high',
    topics: ['customs_enforcement'],
    jurisdictions: ['CN'],
    entities: ['NVIDIA'],
    evidence: [],
    rulesVersion: 'r1',
    sources: [{ feedId, itemId: `i-${id}`, title: 'x', published: '2026-11-28T10:00:00Z' }],
    createdAt: '2026-11-28T10:01:00Z',
  };
}

/** Every delivery id queued, whether in a `deliver` job or inside a `deliver-batch` job. */
async function queuedDeliveryIds(prefix: string): Promise<string[]> {
  const queue = createQueue(QUEUES.deliveries, { connection: redis, prefix });
  try {
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'completed']);
    return jobs.flatMap((j) => {
      const data = j.data as { deliveryId?: string; deliveries?: Array<{ deliveryId: string }> };
      return data.deliveries ? data.deliveries.map((d) => d.deliveryId) : [data.deliveryId ?? ''];
    });
  } finally {
    await queue.close();
  }
}

describe('createAlertRouter on real Redis', () => {
  it('two classifier jobs routing two sources of one story at the same moment queue its delivery once', async () => {
    const prefix = `test-router-${randomUUID()}`;
    prefixes.push(prefix);
    const sub: Subscription = SubscriptionSchema.parse({
      id: 'team-chips',
      name: 'chips',
      team: 'trade',
      filter: { topics: ['customs_enforcement'] },
      channels: [
        { type: 'webhook', url: 'https://hooks.example.com/x', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
      ],
    });
    // Two replicas: their own connections and queue producers, as two classifier processes have.
    const routers = [0, 1].map(() => {
      const state = duplicateRedis(redis, {});
      const deliveries = createQueue(QUEUES.deliveries, { connection: duplicateRedis(redis, {}), prefix });
      return {
        state,
        deliveries,
        router: createAlertRouter({ state, prefix, deliveries, subscriptions: () => [sub] }),
      };
    });
    try {
      // Each batch also carries a story of its own, so each makes a two-delivery deliver-batch job.
      const [one, two] = await Promise.all([
        routers[0]!.router.routeMany([alert('a-reuters', 'st-h20', 'reuters'), alert('a-x', 'st-x', 'reuters')]),
        routers[1]!.router.routeMany([alert('a-scmp', 'st-h20', 'scmp'), alert('a-y', 'st-y', 'scmp')]),
      ]);
      expect(one!.queued + two!.queued).toBe(3);
      expect(one!.alreadyQueued + two!.alreadyQueued).toBe(1);
      const key = channelKey(sub.channels[0]!);
      const ids = await queuedDeliveryIds(prefix);
      expect(ids.sort()).toEqual(['st-h20', 'st-x', 'st-y'].map((story) => deliveryIdFor(story, sub.id, key)).sort());

      // The job that claimed it, retried (a crash between claim and enqueue), queues it again under
      // the same id; a third source does not.
      const claimer = one!.queued === 2 ? routers[0]! : routers[1]!;
      const claimerAlert =
        one!.queued === 2 ? alert('a-reuters', 'st-h20', 'reuters') : alert('a-scmp', 'st-h20', 'scmp');
      expect((await claimer.router.routeMany([claimerAlert])).queued).toBe(1);
      expect((await routers[0]!.router.routeMany([alert('a-ft', 'st-h20', 'ft')])).queued).toBe(0);
    } finally {
      for (const r of routers) {
        await r.deliveries.close();
        await r.state.quit();
      }
    }
  });
});
