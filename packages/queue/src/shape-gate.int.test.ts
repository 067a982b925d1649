import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis, stateKey } from './connection.js';
import { createShapeGate, type Heartbeat, JOB_SHAPES, readHeartbeats, startHeartbeat } from './heartbeat.js';

const redis = createRedis(process.env.REDIS_URL, 'worker');
const prefixes: string[] = [];
const freshPrefix = () => {
  const p = `test-gate-${randomUUID()}`;
  prefixes.push(p);
  return p;
};

afterAll(async () => {
  for (const p of prefixes) {
    const keys = await redis.keys(`*${p}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

/** A heartbeat as an instance of a release before job shapes were announced writes it: no `reads`. */
async function oldBeat(prefix: string, service: string, instance: string): Promise<void> {
  const beat: Heartbeat = {
    service,
    instance,
    pid: 1,
    at: new Date().toISOString(),
    rssBytes: 1,
    heapUsedBytes: 1,
  };
  await redis.set(stateKey(prefix, 'heartbeat', service, instance), JSON.stringify(beat), 'EX', 20);
}

describe('job shapes in heartbeats, and the gate producers ask (real Redis)', () => {
  it('a classifier and a notifier say which newer job shapes they read; a poller says none', async () => {
    const prefix = freshPrefix();
    const beats = ['classifier', 'notifier', 'poller'].map((s) => startHeartbeat(redis, prefix, s));
    try {
      await new Promise((r) => setTimeout(r, 100));
      const byService = Object.fromEntries((await readHeartbeats(redis, prefix)).map((b) => [b.service, b.reads]));
      expect(byService).toEqual({
        classifier: [JOB_SHAPES.itemBatches],
        notifier: [JOB_SHAPES.deliveryBatches],
        poller: undefined,
      });
    } finally {
      await Promise.all(beats.map((b) => b.close()));
    }
  });

  it('is open with no reader live, closed while any live reader is older, and open again once it is gone', async () => {
    const prefix = freshPrefix();
    const changes: boolean[] = [];
    const gate = createShapeGate(redis, prefix, 'classifier', JOB_SHAPES.itemBatches, {
      everyMs: 60_000,
      onChange: (open) => changes.push(open),
    });
    try {
      expect(await gate.refresh()).toBe(true);
      const current = startHeartbeat(redis, prefix, 'classifier');
      await new Promise((r) => setTimeout(r, 100));
      expect(await gate.refresh()).toBe(true);
      await oldBeat(prefix, 'classifier', 'old-1');
      expect(await gate.refresh()).toBe(false);
      expect(gate()).toBe(false);
      // Another service's old instance does not matter to this gate.
      await oldBeat(prefix, 'notifier', 'old-2');
      await redis.del(stateKey(prefix, 'heartbeat', 'classifier', 'old-1'));
      expect(await gate.refresh()).toBe(true);
      expect(gate()).toBe(true);
      expect(changes).toEqual([false, true]);
      await current.close();
    } finally {
      gate.close();
    }
  });
});
