import { randomUUID } from 'node:crypto';
import { silentLogger } from '@regwatch/logger';
import { bullPrefix, createQueue, createRedis } from '@regwatch/queue';
import { afterAll, describe, expect, it } from 'vitest';
import { buildServer } from './server.js';

const prefix = `test-${randomUUID()}`;
const redis = createRedis(process.env.REDIS_URL, 'producer');

afterAll(async () => {
  const keys = await redis.keys(`${bullPrefix(prefix)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('api (real Redis)', () => {
  it('answers health, readiness and queue counts', async () => {
    const app = buildServer({ connection: redis, prefix, log: silentLogger() });
    const items = createQueue('items', { connection: redis, prefix });
    await items.add('item', { v: 1 }, { delay: 60_000 });
    try {
      expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
      const ready = await app.inject('/readyz');
      expect(ready.statusCode).toBe(200);
      const counts = (await app.inject('/v1/queues')).json();
      expect(Object.keys(counts.queues).sort()).toEqual(['alerts', 'deliveries', 'items', 'polls']);
      expect(counts.queues.items.delayed).toBe(1);
    } finally {
      await items.close();
      await app.close();
    }
  });

  it('reports unready, not a hang, when Redis is unreachable', async () => {
    const dead = createRedis('redis://127.0.0.1:1', 'producer', { retryStrategy: () => null });
    dead.on('error', () => {});
    const app = buildServer({ connection: dead, prefix, log: silentLogger() });
    try {
      const res = await app.inject('/readyz');
      expect(res.statusCode).toBe(503);
      expect(res.json().status).toBe('unready');
    } finally {
      await app.close();
      dead.disconnect();
    }
  });
});
