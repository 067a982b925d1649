import type { OpsEventJob } from '@regwatch/contracts';
import { initialSourceHealth, type SourceHealth } from '@regwatch/store';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INCIDENT_THRESHOLDS } from './incidents.js';
import { observePoll, opsJobId, pollHealthStore } from './source-health.js';

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

describe('pollHealthStore', () => {
  it('reads the state loaded in advance, and lets go after the last save (a second one when notices were pending)', async () => {
    const store = memoryStore();
    const events: string[] = [];
    const logged = {
      load: store.load,
      save: async (id: string, health: SourceHealth, arrivalAtMs?: number) => {
        events.push(`save pending=${health.pending.length}`);
        await store.save(id, health, arrivalAtMs);
      },
    };
    const deps = (loaded: ReturnType<typeof store.load>) => ({
      store: pollHealthStore(logged, loaded, () => events.push('last save sent')),
      thresholds: { ...DEFAULT_INCIDENT_THRESHOLDS, emptyAfter: 1 },
      now: () => new Date(T0),
      enqueueOps: async () => {
        events.push('ops queued');
      },
    });
    // Loaded before the poll: what `load` answers is that read, not a new one.
    const loaded = store.load();
    store.data.health = { ...initialSourceHealth(), okStreak: 7 };
    await observePoll(feed, { kind: 'ok', items: 12, newItems: 12 }, deps(loaded));
    expect(store.data.health.okStreak).toBe(1);
    expect(events).toEqual(['save pending=0', 'last save sent']);

    // An incident opens: saved with its notice pending, queued, saved again; only then let go.
    events.length = 0;
    await observePoll(feed, { kind: 'ok', items: 0, newItems: 0 }, deps(store.load()));
    expect(events).toEqual(['save pending=1', 'ops queued', 'save pending=0', 'last save sent']);
  });
});
