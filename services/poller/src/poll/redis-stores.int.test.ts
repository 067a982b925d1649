import { randomUUID } from 'node:crypto';
import { bullPrefix, createRedis, stateKey } from '@regwatch/queue';
import { ENTRY_MEMO_TTL_SECONDS, FeedStateStore } from '@regwatch/store';
import { afterAll, describe, expect, it } from 'vitest';
import { FeedLock } from './feed-lock.js';
import { HostLimiter } from './host-limiter.js';
import { SeenStore } from './seen-store.js';

const prefix = `test-${randomUUID().slice(0, 8)}`;
const redis = createRedis(process.env.REDIS_URL, 'worker');

afterAll(async () => {
  // The prefix and the per-test ones made from it (`${prefix}-seen` …): `{test-ab12cd34` + anything.
  const keys = await redis.keys(`${bullPrefix(prefix).slice(0, -1)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('FeedLock (real Redis)', () => {
  it('lets one poller at a time hold a feed, and only the holder release it', async () => {
    const a = new FeedLock(redis, prefix);
    const b = new FeedLock(redis.duplicate(), prefix); // another replica, another connection
    const token = await a.acquire('fr-bis');
    expect(token).toBeDefined();
    expect(await b.acquire('fr-bis')).toBeUndefined();
    expect(await b.acquire('fr-ofac')).toBeDefined(); // other feeds are independent
    expect(await b.release('fr-bis', 'not-the-token')).toBe(false);
    expect(await b.acquire('fr-bis')).toBeUndefined();
    expect(await a.release('fr-bis', token!)).toBe(true);
    expect(await b.acquire('fr-bis')).toBeDefined();
  });

  it('expires, so a crashed poller does not block a feed for long', async () => {
    const lock = new FeedLock(redis, prefix, 100);
    const stale = await lock.acquire('uk-ecju');
    expect(await lock.acquire('uk-ecju')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 150));
    const fresh = await lock.acquire('uk-ecju');
    expect(fresh).toBeDefined();
    // The crashed poller's late release must not free the new holder's lock.
    expect(await lock.release('uk-ecju', stale!)).toBe(false);
    expect(await lock.acquire('uk-ecju')).toBeUndefined();
  });
});

describe('HostLimiter (real Redis)', () => {
  it('allows `limit` leases per host across instances and frees a slot on release', async () => {
    const one = new HostLimiter(redis, prefix, { limit: 2, maxWaitMs: 0 });
    const two = new HostLimiter(redis.duplicate(), prefix, { limit: 2, maxWaitMs: 0 });
    const r1 = await one.tryAcquire('feeds.example.org');
    const r2 = await two.tryAcquire('feeds.example.org');
    expect(r1).toBeDefined();
    expect(r2).toBeDefined();
    expect(await one.tryAcquire('feeds.example.org')).toBeUndefined();
    expect(await two.tryAcquire('FEEDS.example.org')).toBeUndefined(); // host names are case-insensitive
    expect(await one.tryAcquire('other.example.org')).toBeDefined();
    expect(await one.inUse('feeds.example.org')).toBe(2);
    await r1!();
    await r1!(); // a second release is a no-op, not a freed extra slot
    expect(await one.inUse('feeds.example.org')).toBe(1);
    expect(await two.tryAcquire('feeds.example.org')).toBeDefined();
    expect(await two.tryAcquire('feeds.example.org')).toBeUndefined();
  });

  it('reclaims leases of a poller that never released them', async () => {
    const limiter = new HostLimiter(redis, prefix, { limit: 1, leaseMs: 100, maxWaitMs: 0 });
    expect(await limiter.tryAcquire('crash.example.org')).toBeDefined();
    expect(await limiter.tryAcquire('crash.example.org')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 150));
    expect(await limiter.tryAcquire('crash.example.org')).toBeDefined();
  });

  it('waits for a slot up to maxWaitMs, then gives up', async () => {
    const limiter = new HostLimiter(redis, prefix, { limit: 1, maxWaitMs: 300 });
    const held = await limiter.acquire('wait.example.org');
    setTimeout(() => void held!(), 100);
    const started = Date.now();
    const next = await limiter.acquire('wait.example.org');
    expect(next).toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    const startedAgain = Date.now();
    expect(await limiter.acquire('wait.example.org')).toBeUndefined();
    expect(Date.now() - startedAgain).toBeGreaterThanOrEqual(200);
  });
});

describe('SeenStore (real Redis)', () => {
  const DAY = 24 * 3600;

  it('remembers members across buckets until the retention window has passed', async () => {
    const seen = new SeenStore(redis, `${prefix}-seen`, { retentionSeconds: 14 * DAY, bucketSeconds: 7 * DAY });
    const t0 = Date.parse('2026-03-02T00:00:00Z');
    await seen.add(['ia', 'ua'], t0);
    expect(await seen.has(['ia', 'ib', 'ua'], t0)).toEqual([true, false, true]);
    // Still remembered two weeks later (the bucket is two buckets old)…
    expect(await seen.has(['ia'], t0 + 14 * DAY * 1000)).toEqual([true]);
    // …and no longer consulted once it falls out of the window (its TTL drops it in Redis too).
    expect(await seen.has(['ia'], t0 + 22 * DAY * 1000)).toEqual([false]);
    const [bucket] = await redis.keys(`${bullPrefix(`${prefix}-seen`)}:seen:*`);
    const ttl = await redis.ttl(bucket!);
    expect(ttl).toBeGreaterThan(14 * DAY);
    expect(ttl).toBeLessThanOrEqual(21 * DAY);
  });

  it('answers for more members than one script call takes, in order', async () => {
    const seen = new SeenStore(redis, `${prefix}-many`);
    const members = Array.from({ length: 9_000 }, (_, i) => `i${i}`);
    await seen.add(members.filter((_, i) => i % 3 === 0));
    const flags = await seen.has(members);
    expect(flags).toHaveLength(9_000);
    expect(flags.every((f, i) => f === (i % 3 === 0))).toBe(true);
  });

  it('derives the number of buckets from the retention (REGWATCH_SEEN_RETENTION_DAYS)', async () => {
    const short = new SeenStore(redis, `${prefix}-short`, { retentionSeconds: 1 * DAY, bucketSeconds: DAY });
    const t0 = Date.parse('2026-03-02T12:00:00Z');
    await short.add(['ix'], t0);
    expect(await short.has(['ix'], t0 + 1.4 * DAY * 1000)).toEqual([true]);
    expect(await short.has(['ix'], t0 + 2.6 * DAY * 1000)).toEqual([false]);
  });
});

describe('FeedStateStore entry memo (real Redis)', () => {
  it('keeps a memo apart from the state hash, for a week, until replaced, deleted or the feed is removed', async () => {
    const store = new FeedStateStore(redis, prefix);
    expect(await store.entryMemo('fr-memo')).toBeUndefined();
    await store.update('fr-memo', { lastStatus: 200 });
    await store.setEntryMemo('fr-memo', '{"v":1,"c":"x","e":[]}');
    expect(await store.entryMemo('fr-memo')).toBe('{"v":1,"c":"x","e":[]}');
    // Health reads (the api's) never carry it.
    expect(Object.keys(await store.get('fr-memo'))).not.toContain('memo');
    expect(JSON.stringify(await store.get('fr-memo'))).not.toContain('"v":1');
    const ttl = await redis.ttl(stateKey(prefix, 'memo', 'fr-memo'));
    expect(ttl).toBeGreaterThan(ENTRY_MEMO_TTL_SECONDS - 5);
    expect(ttl).toBeLessThanOrEqual(ENTRY_MEMO_TTL_SECONDS);
    await store.setEntryMemo('fr-memo', undefined);
    expect(await store.entryMemo('fr-memo')).toBeUndefined();
    await store.setEntryMemo('fr-memo', 'again');
    await store.remove('fr-memo');
    expect(await store.entryMemo('fr-memo')).toBeUndefined();
  });
});
