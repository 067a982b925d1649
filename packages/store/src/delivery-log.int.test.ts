import { randomUUID } from 'node:crypto';
import type { Alert } from '@regwatch/contracts';
import { bullPrefix, createRedis } from '@regwatch/queue';
import { afterAll, describe, expect, it } from 'vitest';
import { AlertStore } from './alert-store.js';
import { DeliveryLog } from './delivery-log.js';

const prefix = `test-${randomUUID().slice(0, 8)}`;
const redis = createRedis(process.env.REDIS_URL, 'worker');

afterAll(async () => {
  const keys = await redis.keys(`${bullPrefix(prefix)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

function alertOf(id: string, storyId: string): Alert {
  const at = new Date().toISOString();
  return {
    id,
    storyId,
    itemId: `item-${id}`,
    feedId: 'wire',
    title: `Story ${id}`,
    summary: 'New licence requirements for advanced chips.',
    published: at,
    score: 3,
    severity: 'high',
    topics: [],
    jurisdictions: [],
    entities: [],
    evidence: [],
    rulesVersion: 'test',
    sources: [{ feedId: 'wire', itemId: `item-${id}`, title: `Story ${id}`, published: at }],
    createdAt: at,
  };
}

describe('DeliveryLog.recordAndCount (real Redis)', () => {
  it("records the attempt as record does and returns the story set's size read after it", async () => {
    const log = new DeliveryLog(redis, prefix);
    const alerts = new AlertStore(redis, { prefix });
    await alerts.save(alertOf('a-1', 'story-c'));
    await alerts.save(alertOf('a-2', 'story-c'));
    const attempt = {
      deliveryId: 'd-c',
      alertId: 'a-1',
      subscriptionId: 's',
      channel: 'webhook' as const,
      attempt: 1,
      at: '2026-01-01T00:00:00Z',
      ok: true,
      code: 200,
      latencyMs: 4,
    };
    const size = await log.recordAndCount(
      attempt,
      { storyIds: ['story-c'], kind: 'alert', sources: 1 },
      alerts.storySetKey('story-c'),
    );
    expect(size).toBe(2);
    expect(await log.status('d-c')).toMatchObject({ state: 'delivered', attempts: 1, code: 200, sources: 1 });
    expect(await log.attempts('d-c')).toEqual([attempt]);
    // The counted set is not taken for an index (a ZADD on it would fail with WRONGTYPE).
    expect(await log.deliveriesForAlert('a-1')).toEqual(['d-c']);
    expect(await log.deliveriesForStory('story-c')).toEqual(['d-c']);
    expect(await alerts.storySize('story-c')).toBe(2);

    // A story whose set expired (or never was) counts 0.
    expect(
      await log.recordAndCount(
        { ...attempt, deliveryId: 'd-gone' },
        { storyIds: ['gone'] },
        alerts.storySetKey('gone'),
      ),
    ).toBe(0);
    expect(await log.status('d-gone')).toMatchObject({ state: 'delivered' });
  });

  it('records an attempt without code or sources (undefined fields) as one that leaves them out', async () => {
    const log = new DeliveryLog(redis, prefix);
    await log.record(
      {
        deliveryId: 'd-u',
        alertId: 'a-u',
        subscriptionId: 's',
        channel: 'email',
        attempt: 1,
        at: '2026-01-01T00:00:00Z',
        ok: true,
        code: undefined,
        latencyMs: 3,
      },
      { storyIds: ['story-u'], kind: 'alert', sources: undefined },
    );
    const status = await log.status('d-u');
    expect(status).toMatchObject({ state: 'delivered', channel: 'email' });
    expect(status?.code).toBeUndefined();
    expect(status?.sources).toBeUndefined();
    expect(Object.keys((await log.attempts('d-u'))[0]!)).not.toContain('code');
  });

  it("reads each delivery's state in one command, undefined for one never attempted", async () => {
    const log = new DeliveryLog(redis, prefix);
    const attempt = (deliveryId: string, ok: boolean) => ({
      deliveryId,
      alertId: 'a-s',
      subscriptionId: 's',
      channel: 'webhook' as const,
      attempt: 1,
      at: '2026-01-01T00:00:00Z',
      ok,
      latencyMs: 1,
    });
    await log.record(attempt('st-ok', true));
    await log.record(attempt('st-retry', false));
    await log.markDead('st-dead', 'WEBHOOK_GONE', '2026-01-01T00:00:01Z');
    expect(await log.states(['st-none', 'st-ok', 'st-retry', 'st-dead', 'st-none-2'])).toEqual([
      undefined,
      'delivered',
      'retrying',
      'dead',
      undefined,
    ]);
    expect(await log.states([])).toEqual([]);
  });
});
