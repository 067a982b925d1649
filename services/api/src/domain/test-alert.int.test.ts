import { randomUUID } from 'node:crypto';
import { QUEUES, SubscriptionSchema } from '@regwatch/contracts';
import { bullPrefix, createQueue, createRedis, scanKeys, waitForRedis } from '@regwatch/queue';
import { AlertStore } from '@regwatch/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendTestAlert } from './test-alert.js';

const redis = createRedis(process.env.REDIS_URL, 'producer');
const prefix = `test-send-${randomUUID().slice(0, 8)}`;
const queue = createQueue(QUEUES.deliveries, { connection: redis, prefix });

beforeAll(() => waitForRedis(redis, 5_000));

afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  // The store's keys carry the `{prefix}` hash tag: a `${prefix}*` pattern matched none of them.
  for (const key of await scanKeys(redis, `${bullPrefix(prefix)}*`, 1000)) await redis.del(key);
  await redis.quit();
});

describe('sendTestAlert (real Redis)', () => {
  const subscription = SubscriptionSchema.parse({
    id: 'desk',
    team: 'chips',
    channels: [{ type: 'email', to: ['desk@example.com'] }],
  });

  it('queues the delivery with the configured retry schedule, not the built-in one', async () => {
    const sent = await sendTestAlert(
      { alerts: new AlertStore(redis, { prefix }), deliveries: queue, attempts: 3 },
      subscription,
    );
    const job = await queue.getJob(sent.deliveries[0]!.deliveryId);
    expect(job?.opts.attempts).toBe(3);
    expect(job?.opts.backoff).toEqual({ type: 'custom' });
  });

  it('falls back to the built-in schedule (7 attempts) when none is configured', async () => {
    const sent = await sendTestAlert({ alerts: new AlertStore(redis, { prefix }), deliveries: queue }, subscription);
    const job = await queue.getJob(sent.deliveries[0]!.deliveryId);
    expect(job?.opts.attempts).toBe(7);
  });
});
