import { randomUUID } from 'node:crypto';
import { PermanentError } from '@regwatch/contracts';
import { silentLogger } from '@regwatch/logger';
import { type Job, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bullPrefix, createQueue, createRedis, startWorker } from './index.js';

const prefix = `test-${randomUUID()}`;
const redis = createRedis(process.env.REDIS_URL, 'worker');

afterAll(async () => {
  const keys = await redis.keys(`${bullPrefix(prefix)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('worker runner (real Redis)', () => {
  const schema = z.object({ v: z.literal(1), n: z.number().int() });
  const seen: number[] = [];
  let events: QueueEvents;
  beforeAll(async () => {
    events = new QueueEvents('runner', { connection: redis.duplicate(), prefix: bullPrefix(prefix) });
    await events.waitUntilReady();
  });
  afterAll(() => events.close());

  it('fails a bad payload permanently, naming the field, and keeps consuming', async () => {
    const queue = createQueue('runner', { connection: redis, prefix });
    const handle = startWorker(
      {
        queue: 'runner',
        schema,
        handle: async ({ n }) => {
          if (n === 13) throw new PermanentError('UNLUCKY', 'thirteen is refused');
          seen.push(n);
          return n * 2;
        },
      },
      { connection: redis, prefix, log: silentLogger() },
    );
    try {
      const bad = await queue.add('x', { v: 1, n: 'seven' });
      const badDone = bad.waitUntilFinished(events).catch((e: Error) => e.message);
      expect(await badDone).toMatch(/invalid runner payload: data\.n: /);
      const failed = (await queue.getJob(bad.id!)) as Job;
      expect(failed.attemptsMade).toBe(1); // UnrecoverableError: no retry despite attempts: 8

      const unlucky = await queue.add('x', { v: 1, n: 13 });
      expect(await unlucky.waitUntilFinished(events).catch((e: Error) => e.message)).toBe(
        'UNLUCKY: thirteen is refused',
      );

      const good = await queue.add('x', { v: 1, n: 21 });
      expect(await good.waitUntilFinished(events)).toBe(42);
      expect(seen).toEqual([21]);
    } finally {
      await handle.close();
      await queue.close();
    }
  });
});
