import { randomUUID } from 'node:crypto';
import { bullPrefix, createRedis } from '@regwatch/queue';
import { afterAll, describe, expect, it } from 'vitest';
import { type DeadLetterInput, DeadLetterStore } from './dead-letters.js';
import { DeliveryLog } from './delivery-log.js';

const prefix = `test-${randomUUID().slice(0, 8)}`;
const redis = createRedis(process.env.REDIS_URL, 'worker');

afterAll(async () => {
  const keys = await redis.keys(`${bullPrefix(prefix)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

function letter(n: number, over: Partial<DeadLetterInput> = {}): DeadLetterInput {
  return {
    id: `d-${n}`,
    deliveryId: `d-${n}`,
    kind: 'alert',
    alertId: `a-${n}`,
    storyId: `s-${n}`,
    subscriptionId: n % 2 === 0 ? 'even' : 'odd',
    channelKey: 'wabc',
    channel: 'webhook',
    reason: 'WEBHOOK_GONE',
    message: 'webhook endpoint hooks.example.com answered 410 (Gone)',
    failedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    attempts: 1,
    job: { v: 1, deliveryId: `d-${n}` },
    ...over,
  };
}

describe('DeadLetterStore (real Redis)', () => {
  it('stores, lists newest first (optionally by subscription), removes, and keeps at most maxEntries', async () => {
    const store = new DeadLetterStore(redis, prefix, { maxEntries: 3 });
    for (let n = 1; n <= 5; n++) await store.add(letter(n));
    expect(await store.count()).toBe(3);
    expect((await store.list()).map((l) => l.id)).toEqual(['d-5', 'd-4', 'd-3']);
    expect(await store.get('d-1')).toBeUndefined(); // trimmed, value deleted too
    expect(await store.get('d-4')).toMatchObject({ reason: 'WEBHOOK_GONE', replays: 0, job: { deliveryId: 'd-4' } });
    expect((await store.list({ subscriptionId: 'odd' })).map((l) => l.id)).toEqual(['d-5', 'd-3']);
    expect((await store.list({ limit: 1, before: Date.parse(letter(5).failedAt) })).map((l) => l.id)).toEqual(['d-4']);
    expect(await store.remove('d-4')).toBe(true);
    expect(await store.remove('d-4')).toBe(false);
    expect((await store.list()).map((l) => l.id)).toEqual(['d-5', 'd-3']);
  });

  it('expires letters after the retention period', async () => {
    const store = new DeadLetterStore(redis, `${prefix}-ttl`, { retentionSeconds: 60 });
    await store.add(letter(9, { failedAt: new Date().toISOString() }));
    const ttl = await redis.ttl(`${bullPrefix(`${prefix}-ttl`)}:dead-letter:d-9`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    await redis.del(`${bullPrefix(`${prefix}-ttl`)}:dead-letter:d-9`, `${bullPrefix(`${prefix}-ttl`)}:dead-letters`);
  });
});

describe('DeliveryLog (real Redis)', () => {
  it('keeps attempts per delivery, a status, and indexes by alert and story', async () => {
    const log = new DeliveryLog(redis, prefix);
    const base = { deliveryId: 'd-x', alertId: 'a-1', subscriptionId: 's', channel: 'webhook' as const, latencyMs: 5 };
    await log.record(
      { ...base, attempt: 1, at: '2026-01-01T00:00:00Z', ok: false, code: 503, error: 'WEBHOOK_SERVER_ERROR: x' },
      { storyIds: ['story-1'], kind: 'alert' },
    );
    expect(await log.status('d-x')).toMatchObject({ state: 'retrying', attempts: 1, code: 503 });
    expect(await log.deliveredSources('d-x')).toBeUndefined();
    await log.record(
      { ...base, attempt: 2, at: '2026-01-01T00:00:05Z', ok: true, code: 200 },
      { storyIds: ['story-1'], kind: 'alert', sources: 2 },
    );
    const status = await log.status('d-x');
    expect(status).toMatchObject({ state: 'delivered', attempts: 2, code: 200, sources: 2, kind: 'alert' });
    expect(status?.error).toBeUndefined();
    expect(await log.deliveredSources('d-x')).toBe(2);
    expect((await log.attempts('d-x')).map((a) => a.ok)).toEqual([false, true]);
    expect(await log.deliveriesForAlert('a-1')).toEqual(['d-x']);
    const [record] = await log.listForStory('story-1');
    expect(record).toMatchObject({ deliveryId: 'd-x', status: { state: 'delivered' } });
    expect(record!.attempts).toHaveLength(2);
    await log.markDead('d-y', 'SMTP_REJECTED', '2026-01-01T00:01:00Z', { attempts: 1, channel: 'email' });
    expect(await log.status('d-y')).toMatchObject({ state: 'dead', error: 'SMTP_REJECTED', channel: 'email' });
    expect(await log.listForAlert('nothing')).toEqual([]);
  });
});
