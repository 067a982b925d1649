import { describe, expect, it } from 'vitest';
import { benchDeliveries } from './deliveries.js';

describe('benchDeliveries (real Redis, webhook sink on 127.0.0.1)', () => {
  it('delivers every job exactly once with a valid signature, and reports a rate', async () => {
    const r = await benchDeliveries({ count: 300, redisUrl: process.env.REDIS_URL, verifyEvery: 1 });
    console.info('delivery bench (small run; measure with a larger count alone)', r);
    expect(r).toMatchObject({ count: 300, received: 300, requests: 300, verified: 300, badSignatures: 0 });
    expect(r.deliveriesPerSec).toBeGreaterThan(0);
  });
});
