import type { Alert, Subscription } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import { contactsOf } from './deliver.js';
import type { NotifierDeliveryJob } from './jobs.js';
import { channelKey, deliveryIdFor, digestMarkFor, updateDeliveryIdFor } from './keys.js';
import { type RouteAlertDeps, routeAlert } from './route-alert.js';

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
function world(subs: Subscription[]) {
  const queued = new Set<string>();
  const jobs: NotifierDeliveryJob[] = [];
  const delivered = new Map<string, number>();
  const digest: Array<[string, string]> = [];
  const story = { size: 1 };
  const deps: RouteAlertDeps = {
    match: () => subs,
    isQueued: async (id) => queued.has(id),
    enqueue: async (batch) => {
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
      storySize: async () => story.size,
    },
  };
  return { deps, queued, jobs, delivered, digest, story };
}

describe('routeAlert', () => {
  it('queues one delivery per channel, once per story', async () => {
    const w = world([sub()]);
    expect(await routeAlert(alert('a1'), w.deps)).toMatchObject({ matched: 1, queued: 2, alreadyQueued: 0 });
    expect(await routeAlert(alert('a1'), w.deps)).toMatchObject({ queued: 0, alreadyQueued: 2, updates: 0 });
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

describe('contactsOf', () => {
  it('is the contact list, else every email channel address once', () => {
    expect(contactsOf(sub({ contact: ['ops@example.com'] }))).toEqual(['ops@example.com']);
    expect(
      contactsOf(sub({ channels: [webhook, email, { type: 'email', to: ['DESK@example.com', 'b@example.com'] }] })),
    ).toEqual(['desk@example.com', 'b@example.com']);
    expect(contactsOf(sub({ channels: [webhook] }))).toEqual([]);
  });
});
