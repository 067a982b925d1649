import { randomUUID } from 'node:crypto';
import { bullPrefix, createRedis } from '@regwatch/queue';
import { afterAll, describe, expect, it } from 'vitest';
import { ChannelHealthStore } from './channel-health.js';

const prefix = `test-${randomUUID().slice(0, 8)}`;
const redis = createRedis(process.env.REDIS_URL, 'worker');

afterAll(async () => {
  const keys = await redis.keys(`${bullPrefix(prefix)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const HOUR = 3_600_000;

describe('ChannelHealthStore (real Redis)', () => {
  const health = new ChannelHealthStore(redis, prefix);
  const fail = (key: string, atMs: number, gone = false) =>
    health.recordFailure('sub', key, {
      at: new Date(atMs),
      error: 'WEBHOOK_SERVER_ERROR: x',
      gone,
      disableAfterMs: 72 * HOUR,
    });

  it('disables after the period of continuous failure, once; a success in between starts the clock again', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    expect((await fail('w1', t0)).newlyDisabled).toBe(false);
    expect((await fail('w1', t0 + 71 * HOUR)).newlyDisabled).toBe(false);
    await health.recordSuccess('sub', 'w1');
    expect(await health.get('sub', 'w1')).toMatchObject({ disabled: false, consecutiveFailures: 0 });
    expect((await fail('w1', t0 + 72 * HOUR)).newlyDisabled).toBe(false); // the clock restarted
    const disabled = await fail('w1', t0 + 144 * HOUR);
    expect(disabled.newlyDisabled).toBe(true);
    expect(disabled.health).toMatchObject({
      disabled: true,
      disabledReason: 'FAILING',
      firstFailureAt: new Date(t0 + 72 * HOUR).toISOString(),
      consecutiveFailures: 2,
    });
    expect((await fail('w1', t0 + 145 * HOUR)).newlyDisabled).toBe(false); // told once
    await health.recordSuccess('sub', 'w1');
    expect((await health.get('sub', 'w1')).disabled).toBe(true); // only enable() re-enables
  });

  it('disables at once on 410, lists disabled channels, and enables them again', async () => {
    const out = await fail('w2', Date.UTC(2026, 0, 2), true);
    expect(out).toMatchObject({ newlyDisabled: true, health: { disabledReason: 'WEBHOOK_GONE' } });
    expect((await health.listDisabled()).map((h) => h.channelKey).sort()).toEqual(['w1', 'w2']);
    expect(await health.enable('sub', 'w2')).toBe(true);
    expect(await health.enable('sub', 'w2')).toBe(false);
    expect(await health.get('sub', 'w2')).toMatchObject({ disabled: false, consecutiveFailures: 0 });
    expect((await health.listDisabled()).map((h) => h.channelKey)).toEqual(['w1']);
  });
});
