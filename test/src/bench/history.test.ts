import { bullPrefix, createQueue } from '@regwatch/queue';
import { type Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, testPrefix, testRedis } from '../helpers/redis.js';
import { clearFinished } from './history.js';

describe('clearFinished', () => {
  const prefix = testPrefix();
  let redis: Redis;
  let queues: Queue[];

  beforeAll(() => {
    redis = testRedis();
    queues = ['a', 'b'].map((name) => createQueue(name, { connection: redis, prefix }));
  });

  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('removes the finished jobs of every queue, past one clean() page, and leaves the waiting ones', async () => {
    const [a, b] = queues as [Queue, Queue];
    await a.addBulk(Array.from({ length: 5200 }, (_, i) => ({ name: 'j', data: { i } })));
    await b.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'j', data: { i } })));
    const workers = ['a', 'b'].map(
      (name) => new Worker(name, async () => 'ok', { connection: redis, prefix: bullPrefix(prefix), concurrency: 50 }),
    );
    const finished = async () => (await a.getCompletedCount()) + (await b.getCompletedCount());
    await expect.poll(finished, { timeout: 25_000, interval: 100 }).toBe(5230);
    await Promise.all(workers.map((w) => w.close()));
    await b.add('j', { i: 'left' });
    const eventsBefore = await redis.xlen(`${bullPrefix(prefix)}:a:events`);

    expect(await clearFinished(queues)).toBe(5230);

    expect(await finished()).toBe(0);
    expect(await b.getWaitingCount()).toBe(1);
    expect(eventsBefore).toBeGreaterThan(0);
    expect(await redis.xlen(`${bullPrefix(prefix)}:a:events`)).toBeLessThan(eventsBefore);
  }, 30_000);
});
