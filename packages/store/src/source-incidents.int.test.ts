import { randomUUID } from 'node:crypto';
import { bullPrefix, createRedis } from '@regwatch/queue';
import { afterAll, describe, expect, it } from 'vitest';
import { initialSourceHealth, SourceIncidentStore } from './source-incidents.js';

const redis = createRedis(process.env.REDIS_URL, 'worker');
const prefix = `test-${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  const keys = await redis.keys(`${bullPrefix(prefix)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('SourceIncidentStore', () => {
  it('starts from a fresh state and an empty history', async () => {
    const store = new SourceIncidentStore(redis, prefix);
    expect(await store.load('never-polled')).toEqual({ health: initialSourceHealth(), arrivals: [] });
  });

  it('keeps the state and the newest arrivals, capped, with a TTL on both keys', async () => {
    const store = new SourceIncidentStore(redis, prefix, { maxArrivals: 5, ttlSeconds: 3600 });
    const health = { ...initialSourceHealth(), okStreak: 3, hasYielded: true, lastItems: 12 };
    for (let i = 1; i <= 8; i++) await store.save('capped', health, i * 1000);
    const loaded = await store.load('capped');
    expect(loaded.health).toEqual(health);
    expect(loaded.arrivals).toEqual([8000, 7000, 6000, 5000, 4000]);
    expect(await redis.llen(`${bullPrefix(prefix)}:arrivals:capped`)).toBe(5);
    for (const key of ['srchealth', 'arrivals']) {
      const ttl = await redis.ttl(`${bullPrefix(prefix)}:${key}:capped`);
      expect(ttl).toBeGreaterThan(3500);
      expect(ttl).toBeLessThanOrEqual(3600);
    }
    // A save without an arrival leaves the history alone.
    await store.save('capped', { ...health, okStreak: 4 });
    expect((await store.load('capped')).arrivals).toHaveLength(5);
    expect((await store.get('capped')).okStreak).toBe(4);
  });

  it('treats a value it cannot read as a fresh state, and forgets a feed on remove', async () => {
    const store = new SourceIncidentStore(redis, prefix);
    await redis.set(`${bullPrefix(prefix)}:srchealth:garbled`, '{"v":99');
    expect(await store.get('garbled')).toEqual(initialSourceHealth());
    await store.save('gone', initialSourceHealth(), 1);
    await store.remove('gone');
    expect(await redis.exists(`${bullPrefix(prefix)}:srchealth:gone`, `${bullPrefix(prefix)}:arrivals:gone`)).toBe(0);
  });
});
