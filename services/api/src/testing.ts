import { randomUUID } from 'node:crypto';
import type { FeedSource, Subscription } from '@regwatch/contracts';
import { silentLogger } from '@regwatch/logger';
import { bullPrefix, createRedis, waitForRedis } from '@regwatch/queue';
import type { Redis } from 'ioredis';
import type { Role } from './auth/tokens.js';
import { type ApiDeps, buildServer } from './server.js';

/**
 * For this package's tests: an API on a fresh key prefix of a real Redis, tokens per role, and
 * a cleanup that deletes every key of the prefix. Not exported from the package.
 */
export async function createTestApi(
  options: { fileFeeds?: FeedSource[]; fileSubscriptions?: Subscription[] } & Partial<ApiDeps> = {},
) {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const redis: Redis = createRedis(process.env.REDIS_URL, 'producer');
  await waitForRedis(redis);
  const app = buildServer({ connection: redis, prefix, log: silentLogger(), ...options });
  await app.ready();
  const tokens: Record<string, string> = {};
  const tokenFor = async (role: Role) => {
    tokens[role] ??= (await app.ctx.tokens.create(role, `test ${role}`)).token;
    return tokens[role];
  };
  const headers = async (role: Role) => ({ authorization: `Bearer ${await tokenFor(role)}` });
  return {
    app,
    redis,
    prefix,
    tokenFor,
    headers,
    close: async () => {
      await app.close();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${bullPrefix(prefix)}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      await redis.quit();
    },
  };
}
