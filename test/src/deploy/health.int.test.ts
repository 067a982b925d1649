import { createRedis } from '@regwatch/queue';
import { startHealthServer } from '@regwatch/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { testRedis } from '../helpers/index.js';

/** The probe listener the workers serve on HEALTH_PORT (k8s liveness and readiness). */
describe('worker health listener', () => {
  const redis = testRedis();
  afterAll(async () => {
    await redis.quit();
  });

  it('answers /healthz always, /readyz while Redis answers and until the drain starts', async () => {
    const health = await startHealthServer({ host: '127.0.0.1', port: 0, redis });
    try {
      const live = await fetch(`${health.url}/healthz`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${health.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', redis: 'ok' });
      expect((await fetch(`${health.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${health.url}/healthz`, { method: 'POST' })).status).toBe(405);

      health.markDraining();
      const draining = await fetch(`${health.url}/readyz`);
      expect(draining.status).toBe(503);
      expect(await draining.json()).toEqual({ status: 'draining' });
      // Liveness holds during the drain: in-flight jobs finish before the pod is killed.
      expect((await fetch(`${health.url}/healthz`)).status).toBe(200);
    } finally {
      await health.close();
    }
  });

  it('is unready, and still live, when Redis does not answer', async () => {
    const dead = createRedis('redis://127.0.0.1:1', 'producer', { retryStrategy: () => null });
    dead.on('error', () => {});
    const health = await startHealthServer({ host: '127.0.0.1', port: 0, redis: dead });
    try {
      const res = await fetch(`${health.url}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { status: string }).status).toBe('unready');
      expect((await fetch(`${health.url}/healthz`)).status).toBe(200);
    } finally {
      await health.close();
      dead.disconnect();
    }
  });
});
