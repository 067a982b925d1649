import { randomUUID } from 'node:crypto';
import { bullPrefix, createRedis, scanKeys } from '@regwatch/queue';
import type { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh key prefix per test file, and a way to delete everything under it afterwards. */
export function testPrefix(): string {
  return `test-${randomUUID().slice(0, 8)}`;
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  // scanKeys reads every master of a cluster; the keys share the {prefix} slot, so one DEL takes them.
  const keys = await scanKeys(redis, `${bullPrefix(prefix)}*`, 1000);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
}

export function testRedis(): Redis {
  return createRedis(TEST_REDIS_URL, 'worker');
}
