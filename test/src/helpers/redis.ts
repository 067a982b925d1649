import { randomUUID } from 'node:crypto';
import { bullPrefix, createRedis } from '@regwatch/queue';
import type { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh key prefix per test file, and a way to delete everything under it afterwards. */
export function testPrefix(): string {
  return `test-${randomUUID().slice(0, 8)}`;
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${bullPrefix(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

export function testRedis(): Redis {
  return createRedis(TEST_REDIS_URL, 'worker');
}
