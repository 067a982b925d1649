import { Redis, type RedisOptions } from 'ioredis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Workers block on Redis and must retry forever (`maxRetriesPerRequest: null`, BullMQ's
 * requirement); producers such as the api fail fast instead of queueing commands while Redis
 * is away (`enableOfflineQueue: false`), so an HTTP request errors instead of hanging.
 */
export type ConnectionRole = 'worker' | 'producer';

export function createRedis(
  url: string = DEFAULT_REDIS_URL,
  role: ConnectionRole = 'worker',
  extra: RedisOptions = {},
): Redis {
  const common: RedisOptions = {
    lazyConnect: false,
    connectionName: `regwatch-${role}`,
    // Reconnect with a capped backoff; BullMQ workers resume consuming once Redis is back.
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 6), 10_000),
    ...extra,
  };
  if (role === 'worker') return new Redis(url, { ...common, maxRetriesPerRequest: null });
  return new Redis(url, { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: false });
}

/**
 * The BullMQ prefix, wrapped in a Redis Cluster hash tag so every key of every queue lands in
 * one slot (BullMQ's Lua scripts touch several keys of a queue at once).
 */
export function bullPrefix(prefix: string): string {
  return `{${prefix}}`;
}

/** Key for regwatch's own state, in the same hash slot as the queues. */
export function stateKey(prefix: string, ...parts: string[]): string {
  return [bullPrefix(prefix), ...parts].join(':');
}

/** Waits until Redis answers PING or the deadline passes. */
export async function waitForRedis(redis: Redis, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if ((await redis.ping()) === 'PONG') return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Redis did not answer within ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}`);
}
