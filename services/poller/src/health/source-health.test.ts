import type { OpsEventJob } from '@regwatch/contracts';
import { initialSourceHealth, type SourceHealth } from '@regwatch/store';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INCIDENT_THRESHOLDS } from './incidents.js';
import { observePoll, opsJobId } from './source-health.js';

/** The store's contract in memory: the state and the arrival list, as SourceIncidentStore keeps them. */
function memoryStore() {
  const data = { health: initialSourceHealth(), arrivals: [] as number[] };
  return {
    data,
    load: async () => ({ health: structuredClone(data.health), arrivals: [...data.arrivals] }),
    save: async (_id: string, health: SourceHealth, arrivalAtMs?: number) => {
      data.health = structuredClone(health);
      if (arrivalAtMs !== undefined) data.arrivals = [arrivalAtMs, ...data.arrivals].slice(0, 50);
    },
  };
}

const feed = { id: 'gacc-announcements', title: 'GACC announcements', url: 'https://customs.example/list.html' };
const T0 = Date.parse('2026-04-01T00:00:00Z');

describe('observePoll', () => {
  it('keeps a notice pending when queuing fails, and queues it under the same id on the next poll', async () => {
    const store = memoryStore();
    const queued: OpsEventJob[][] = [];
    let isQueueDown = true;
    let now = T0;
    const deps = {
      store,
      thresholds: { ...DEFAULT_INCIDENT_THRESHOLDS, emptyAfter: 1 },
      now: () => new Date(now),
      enqueueOps: async (jobs: OpsEventJob[]) => {
        if (isQueueDown) throw new Error('Redis is away');
        queued.push(jobs);
      },
    };
    isQueueDown = false;
    await observePoll(feed, { kind: 'ok', items: 12, newItems: 12 }, deps);
    expect(store.data.arrivals).toEqual([T0]);
    isQueueDown = true;
    now += 3600_000;
    await expect(observePoll(feed, { kind: 'ok', items: 0, newItems: 0 }, deps)).rejects.toThrow('Redis is away');
    expect(store.data.health.pending).toHaveLength(1);
    const pending = store.data.health.pending[0]!;
    expect(opsJobId(pending)).toBe(`ops-gacc-announcements-empty-${now}-opened`);
    expect(pending).toMatchObject({ feedName: 'GACC announcements', feedUrl: feed.url, transition: 'opened' });

    isQueueDown = false;
    now += 3600_000;
    const changes = await observePoll(feed, { kind: 'not-modified' }, deps);
    expect(changes).toEqual([]);
    expect(queued.flat().map(opsJobId)).toEqual([opsJobId(pending)]);
    expect(store.data.health.pending).toEqual([]);
    expect(store.data.health.open.empty?.id).toBe(pending.incident.id);
  });
});
