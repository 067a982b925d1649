import type { Alert, Subscription } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import { contactsOf } from './deliver.js';
import type { NotifierDeliveryJob } from './jobs.js';
import { channelKey, deliveryIdFor, digestMarkFor, updateDeliveryIdFor } from './keys.js';
import { type RouteAlertDeps, type RouteOutcome, routeAlert, routeAlerts } from './route-alert.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const webhook = { type: 'webhook' as const, url: 'https://hooks.example.com/a', secret };
const email = { type: 'email' as const, to: ['desk@example.com'] };

function sub(over: Partial<Subscription> = {}): Subscription {
  return { id: 's1', team: 't', filter: {}, channels: [webhook, email], mode: 'immediate', paused: false, ...over };
}

function alert(id: string, storyId = 'story-1'): Alert {
  return {
    id,
    storyId,
    itemId: id,
    feedId: 'f',
    title: 'T',
    summary: '',
    published: '2026-01-01T00:00:00Z',
    score: 1,
    severity: 'high',
    topics: ['export_controls'],
    jurisdictions: [],
    entities: [],
    evidence: [],
    rulesVersion: 'r',
    sources: [{ feedId: 'f', itemId: id, title: 'T', published: '2026-01-01T00:00:00Z' }],
    createdAt: '2026-01-01T00:00:00Z',
  };
}

/** An in-memory stand-in for Redis and the queue, to check routing's decisions. */
function world(subs: Subscription[], match: (alert: Alert) => readonly Subscription[] = () => subs) {
  const queued = new Set<string>();
  /** Claims: delivery id → the alert holding it (the "queued" mark). */
  const claims = new Map<string, string>();
  const jobs: NotifierDeliveryJob[] = [];
  const delivered = new Map<string, number>();
  const digest: Array<[string, string]> = [];
  const story = { size: 1 };
  /** Each enqueue call's delivery ids, and each storySize call's story. */
  const enqueues: string[][] = [];
  const sizeReads: string[] = [];
  const deps: RouteAlertDeps = {
    match,
    isQueued: async (id) => queued.has(id),
    // A mark set without a claim (`queued`, as marks from before claims) holds for no alert.
    claim: async (id, alertId) => {
      const holder = claims.get(id) ?? (queued.has(id) ? '1' : undefined);
      if (holder === undefined) {
        claims.set(id, alertId);
        queued.add(id);
      }
      return holder === undefined || holder === alertId;
    },
    enqueue: async (batch) => {
      enqueues.push(batch.map((j) => j.deliveryId));
      for (const job of batch) if (!jobs.some((j) => j.deliveryId === job.deliveryId)) jobs.push(job);
    },
    markQueued: async (id) => {
      queued.add(id);
    },
    addToDigest: async (s, storyId) => {
      digest.push([s, storyId]);
    },
    updates: {
      deliveredSources: async (id) => delivered.get(id),
      storySize: async (storyId) => {
        sizeReads.push(storyId);
        return story.size;
      },
    },
  };
  return { deps, queued, jobs, delivered, digest, story, enqueues, sizeReads };
}

describe('routeAlert', () => {
  it('queues one delivery per channel, once per story', async () => {
    const w = world([sub()]);
    expect(await routeAlert(alert('a1'), w.deps)).toMatchObject({ matched: 1, queued: 2, alreadyQueued: 0 });
    // Another source of the story: already claimed by a1.
    expect(await routeAlert(alert('a2'), w.deps)).toMatchObject({ queued: 0, alreadyQueued: 2, updates: 0 });
    // a1 again (its job retried after a crash between claim and enqueue): its claims are its own,
    // so it queues again, under the same delivery ids (the queue and the notifier drop the copy).
    expect(await routeAlert(alert('a1'), w.deps)).toMatchObject({ queued: 2, alreadyQueued: 0 });
    expect(w.enqueues.flat()).toHaveLength(4);
    expect(w.jobs.map((j) => [j.kind, j.deliveryId])).toEqual([
      ['alert', deliveryIdFor('story-1', 's1', channelKey(webhook))],
      ['alert', deliveryIdFor('story-1', 's1', channelKey(email))],
    ]);
  });

  it('announces a later source to webhooks only, and only once the first delivery went out', async () => {
    const w = world([sub()]);
    await routeAlert(alert('a1'), w.deps);
    w.story.size = 2;
    // Not delivered yet: the pending delivery will carry the new source itself.
    expect(await routeAlert(alert('a2'), w.deps)).toMatchObject({ updates: 0 });
    w.delivered.set(deliveryIdFor('story-1', 's1', channelKey(webhook)), 1);
    w.delivered.set(deliveryIdFor('story-1', 's1', channelKey(email)), 1);
    expect(await routeAlert(alert('a2'), w.deps)).toMatchObject({ updates: 1 });
    const update = w.jobs.at(-1)!;
    expect(update).toMatchObject({ kind: 'update', alertId: 'a2', sources: 2, channelKey: channelKey(webhook) });
    expect(update.deliveryId).toBe(updateDeliveryIdFor('story-1', 's1', channelKey(webhook), 2));
    // Delivered with both sources already: nothing to announce.
    w.delivered.set(deliveryIdFor('story-1', 's1', channelKey(webhook)), 2);
    expect(await routeAlert(alert('a2'), w.deps)).toMatchObject({ updates: 0 });
  });

  it('puts stories of digest subscriptions into their window once, instead of queueing deliveries', async () => {
    const w = world([sub({ mode: 'digest', digest: { everyMinutes: 60 } })]);
    expect(await routeAlert(alert('a1'), w.deps)).toMatchObject({ queued: 0, digested: 1 });
    expect(await routeAlert(alert('a2'), w.deps)).toMatchObject({ digested: 0, alreadyQueued: 1 });
    expect(w.digest).toEqual([['s1', 'story-1']]);
    expect(w.queued.has(digestMarkFor('story-1', 's1'))).toBe(true);
    expect(w.jobs).toEqual([]);
  });
});

function sum(outcomes: RouteOutcome[]): RouteOutcome {
  const total: RouteOutcome = { matched: 0, queued: 0, alreadyQueued: 0, updates: 0, digested: 0 };
  for (const o of outcomes) for (const k of Object.keys(total) as (keyof RouteOutcome)[]) total[k] += o[k];
  return total;
}

describe('routeAlerts (a batch of items)', () => {
  const hook2 = { type: 'webhook' as const, url: 'https://hooks.example.com/b', secret };
  // s1 wants everything on two channels, s2 only story-2 on a webhook, s3 collects a digest.
  const subs = [
    sub(),
    sub({ id: 's2', channels: [hook2] }),
    sub({ id: 's3', mode: 'digest', digest: { everyMinutes: 60 } }),
  ];
  const match = (a: Alert) => subs.filter((s) => s.id !== 's2' || a.storyId === 'story-2');
  const batch = [
    alert('a1', 'story-1'),
    alert('a2', 'story-2'),
    alert('a3', 'story-1'),
    alert('a4', 'story-0'),
    alert('a5', 'story-3'),
  ];
  /** story-0 went out to s1 and s3 before this batch (not delivered yet). */
  function seeded() {
    const w = world(subs, match);
    w.queued.add(deliveryIdFor('story-0', 's1', channelKey(webhook)));
    w.queued.add(deliveryIdFor('story-0', 's1', channelKey(email)));
    w.queued.add(digestMarkFor('story-0', 's3'));
    return w;
  }

  it('queues the new deliveries in one enqueue call, with the outcome of routing them one by one', async () => {
    const together = seeded();
    const outcome = await routeAlerts(batch, together.deps);
    const apart = seeded();
    const outcomes: RouteOutcome[] = [];
    for (const a of batch) outcomes.push(await routeAlert(a, apart.deps));

    expect(outcome).toEqual(sum(outcomes));
    expect(outcome).toEqual({ matched: 11, queued: 7, alreadyQueued: 6, updates: 0, digested: 3 });
    expect(together.enqueues).toHaveLength(1);
    expect(together.enqueues[0]).toEqual(together.jobs.map((j) => j.deliveryId));
    expect(new Set(together.jobs.map((j) => j.deliveryId))).toEqual(new Set(apart.jobs.map((j) => j.deliveryId)));
    expect(together.queued).toEqual(apart.queued);
    expect(together.digest).toEqual(apart.digest);
    // Every queued delivery is claimed. A retried batch finds its claims its own and queues the same
    // delivery ids again (the queue and the notifier drop the copies); digests stay marked.
    for (const j of together.jobs) expect(together.queued.has(j.deliveryId)).toBe(true);
    expect(await routeAlerts(batch, together.deps)).toMatchObject({ queued: 7, digested: 0 });
    expect(together.enqueues).toHaveLength(2);
    expect(together.enqueues[1]).toEqual(together.enqueues[0]);
    // Other sources of the same stories: every delivery is someone else's claim.
    const others = batch.map((a) => ({ ...a, id: `${a.id}-again` }));
    expect(await routeAlerts(others, together.deps)).toMatchObject({ queued: 0, digested: 0 });
    expect(together.enqueues).toHaveLength(2);
  });

  it('makes one delivery per channel for two alerts of one story in the batch', async () => {
    const w = world([sub()]);
    const outcome = await routeAlerts([alert('a1'), alert('a2')], w.deps);
    expect(outcome).toEqual({ matched: 2, queued: 2, alreadyQueued: 2, updates: 0, digested: 0 });
    expect(w.jobs.map((j) => [j.deliveryId, j.alertId])).toEqual([
      [deliveryIdFor('story-1', 's1', channelKey(webhook)), 'a1'],
      [deliveryIdFor('story-1', 's1', channelKey(email)), 'a1'],
    ]);
    expect(w.enqueues).toHaveLength(1);
  });

  it("puts a digest subscription's stories into its window once each, and marks them", async () => {
    const w = world([sub({ mode: 'digest', digest: { everyMinutes: 60 } })]);
    w.queued.add(digestMarkFor('story-9', 's1'));
    const outcome = await routeAlerts(
      [alert('a1', 'story-1'), alert('a2', 'story-2'), alert('a3', 'story-1'), alert('a4', 'story-9')],
      w.deps,
    );
    expect(outcome).toEqual({ matched: 4, queued: 0, alreadyQueued: 2, updates: 0, digested: 2 });
    expect(w.digest).toEqual([
      ['s1', 'story-1'],
      ['s1', 'story-2'],
    ]);
    expect(w.queued).toEqual(
      new Set([digestMarkFor('story-9', 's1'), digestMarkFor('story-1', 's1'), digestMarkFor('story-2', 's1')]),
    );
    expect(w.jobs).toEqual([]);
    expect(w.enqueues).toEqual([]);
  });

  it('announces a grown story once per webhook channel and story size, reading the size once', async () => {
    const w = world([sub({ channels: [webhook, hook2, email] })]);
    await routeAlerts([alert('a1')], w.deps);
    for (const c of [webhook, hook2, email]) w.delivered.set(deliveryIdFor('story-1', 's1', channelKey(c)), 1);
    w.story.size = 3;
    // Two later sources of the story in one batch (both stored before routing: the size is 3 for both).
    const outcome = await routeAlerts([alert('a2'), alert('a3')], w.deps);
    expect(outcome).toMatchObject({ matched: 2, queued: 0, alreadyQueued: 6, updates: 2 });
    const updates = w.jobs.filter((j) => j.kind === 'update');
    expect(updates.map((u) => [u.deliveryId, u.sources])).toEqual([
      [updateDeliveryIdFor('story-1', 's1', channelKey(webhook), 3), 3],
      [updateDeliveryIdFor('story-1', 's1', channelKey(hook2), 3), 3],
    ]);
    expect(w.sizeReads).toEqual(['story-1']);
    // The same size again (a retried batch): the same update ids, which the queue keeps once.
    await routeAlerts([alert('a3')], w.deps);
    expect(w.enqueues.at(-1)).toEqual([updateDeliveryIdFor('story-1', 's1', channelKey(hook2), 3)]);
    expect(w.jobs.filter((j) => j.kind === 'update')).toHaveLength(2);
  });
});

describe('contactsOf', () => {
  it('is the contact list, else every email channel address once', () => {
    expect(contactsOf(sub({ contact: ['ops@example.com'] }))).toEqual(['ops@example.com']);
    expect(
      contactsOf(sub({ channels: [webhook, email, { type: 'email', to: ['DESK@example.com', 'b@example.com'] }] })),
    ).toEqual(['desk@example.com', 'b@example.com']);
    expect(contactsOf(sub({ channels: [webhook] }))).toEqual([]);
  });
});
