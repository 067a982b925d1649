import { randomUUID } from 'node:crypto';
import { type Alert, QUEUES, type Subscription, SubscriptionSchema } from '@regwatch/contracts';
import { createQueue, createRedis, duplicateRedis, stateKey } from '@regwatch/queue';
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

  it('claims every delivery of a batch in one script call, in order, honouring marks from before claims', async () => {
    const prefix = `test-router-${randomUUID()}`;
    prefixes.push(prefix);
    const sub: Subscription = SubscriptionSchema.parse({
      id: 'team-chips',
      team: 'trade',
      filter: { topics: ['customs_enforcement'] },
      channels: [
        { type: 'webhook', url: 'https://hooks.example.com/x', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
      ],
    });
    const key = channelKey(sub.channels[0]!);
    const state = duplicateRedis(redis, {});
    const deliveries = createQueue(QUEUES.deliveries, { connection: duplicateRedis(redis, {}), prefix });
    // A mark written before claims existed ("1"): that story went out already.
    await redis.set(stateKey(prefix, 'queued', deliveryIdFor('st-old', sub.id, key)), '1', 'EX', 60);
    // Script calls on the state connection (a Set: ioredis hands a pipeline's command to sendCommand
    // more than once). EVALSHA only: a server that has not seen the script yet gets it once by EVAL.
    const scripts = new Set<unknown>();
    const send = state.sendCommand.bind(state);
    state.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
      if (cmd.name === 'evalsha') scripts.add(cmd);
      return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
    }) as typeof state.sendCommand;
    try {
      const router = createAlertRouter({ state, prefix, deliveries, subscriptions: () => [sub] });
      const outcome = await router.routeMany([
        alert('a-1', 'st-new', 'reuters'),
        alert('a-2', 'st-new', 'scmp'),
        alert('a-3', 'st-old', 'reuters'),
        alert('a-4', 'st-other', 'reuters'),
      ]);
      expect(outcome).toMatchObject({ matched: 4, queued: 2, alreadyQueued: 2 });
      expect(scripts.size).toBe(1);
      // The first alert of the story holds its claim; the second source was refused.
      expect(await redis.get(stateKey(prefix, 'queued', deliveryIdFor('st-new', sub.id, key)))).toBe('a-1');
      expect(await redis.ttl(stateKey(prefix, 'queued', deliveryIdFor('st-new', sub.id, key)))).toBeGreaterThan(60);
      expect(await redis.get(stateKey(prefix, 'queued', deliveryIdFor('st-old', sub.id, key)))).toBe('1');
      const ids = await queuedDeliveryIds(prefix);
      expect(ids.sort()).toEqual(['st-new', 'st-other'].map((story) => deliveryIdFor(story, sub.id, key)).sort());
      // A retry of the batch finds its claims its own and queues the same deliveries again.
      expect((await router.routeMany([alert('a-1', 'st-new', 'reuters')])).queued).toBe(1);
    } finally {
      await deliveries.close();
      await state.quit();
    }
  });
});
