import type { Alert, DeliveryAttempt, Subscription } from '@regwatch/contracts';
import { PermanentError, RetryableError } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import type { AcquireResult } from '../delivery/endpoint-limiter.js';
import type { WebhookAlertEvent } from '../delivery/webhook-payload.js';
import { alertJobFor, type DeliverDeps, type DeliverOutcome, deliver } from './deliver.js';
import { type DeliverBatchDeps, deliverBatch, withBatchHealth, withBatchStories } from './deliver-batch.js';
import type { NotifierDeliveryJob } from './jobs.js';
import { channelKey } from './keys.js';

const ENDPOINT = 'hooks.example.com:443';

function job(n: number): NotifierDeliveryJob {
  return {
    v: 1,
    kind: 'alert',
    deliveryId: `d-${n}`,
    alertId: `a-${n}`,
    storyId: `s-${n}`,
    subscriptionId: 'sub-1',
    channelKey: 'w0123456789abcdef',
  };
}

const jobs = (count: number) => Array.from({ length: count }, (_, i) => job(i + 1));

/**
 * deliverBatch's dependencies are its boundary (the delivery log, the limiter, `deliver`, the
 * queue): these record what the batch asked of them. `acquire` grants a lease by default and
 * records its release; `send` answers 200 in 12 ms unless a test says otherwise.
 */
function world(over: Partial<DeliverBatchDeps> = {}) {
  const delivered = new Set<string>();
  const states = new Map<string, 'retrying' | 'dead'>();
  const ownJobs = new Set<string>();
  const sent: Array<{ deliveryId: string; attempt: number }> = [];
  const handoffs: Array<{ deliveryId: string; delayMs: number; firstAttempt: number }> = [];
  const dead: Array<{ deliveryId: string; err: unknown; attempt: number }> = [];
  const releases: Array<number | null | undefined> = [];
  const sleeps: number[] = [];
  const acquired: string[] = [];
  const lease = (): AcquireResult => ({ ok: true, lease: { release: (ms) => void releases.push(ms) } });
  const deps: DeliverBatchDeps = {
    states: async (ids) => ids.map((id) => (delivered.has(id) ? 'delivered' : states.get(id))),
    isRetry: false,
    hasOwnJob: async (id) => ownJobs.has(id),
    endpointOf: () => ENDPOINT,
    acquire: (endpoint) => {
      acquired.push(endpoint);
      return lease();
    },
    send: async (j, attempt): Promise<DeliverOutcome> => {
      sent.push({ deliveryId: j.deliveryId, attempt });
      return { sent: true, code: 200, latencyMs: 12 };
    },
    latencyOf: () => null,
    handoff: async (j, options) => {
      handoffs.push({ deliveryId: j.deliveryId, ...options });
    },
    deadLetter: async (j, err, attempt) => {
      dead.push({ deliveryId: j.deliveryId, err, attempt });
    },
    retryDelayMs: () => 5_000,
    attempts: 7,
    concurrency: 4,
    maxWaitMs: 2_000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...over,
  };
  return { deps, delivered, states, ownJobs, sent, handoffs, dead, releases, sleeps, acquired, lease };
}

describe('deliverBatch', () => {
  it('a retried batch never sends twice: dead ones skipped, handed-off ones handed off again, deferred ones left to their job', async () => {
    const w = world({ isRetry: true });
    w.states.set('d-1', 'dead');
    w.states.set('d-2', 'retrying');
    w.ownJobs.add('d-3');
    const outcome = await deliverBatch(jobs(4), w.deps);
    expect(outcome).toEqual({ sent: 1, skipped: 1, retrying: 1, deferred: 1, dead: 0 });
    expect(w.sent).toEqual([{ deliveryId: 'd-4', attempt: 1 }]);
    expect(w.handoffs).toEqual([{ deliveryId: 'd-2', delayMs: 5_000, firstAttempt: 2 }]);
  });

  it('a first run sends a delivery that happens to have a job of its own (only a retry asks)', async () => {
    const w = world();
    w.ownJobs.add('d-1');
    const outcome = await deliverBatch(jobs(1), w.deps);
    expect(outcome.sent).toBe(1);
  });

  it('sends each delivery once as its first attempt, and skips the ones already delivered', async () => {
    const w = world();
    w.delivered.add('d-1');
    w.delivered.add('d-3');
    const outcome = await deliverBatch(jobs(4), w.deps);
    expect(outcome).toEqual({ sent: 2, skipped: 2, retrying: 0, deferred: 0, dead: 0 });
    expect(w.sent).toEqual([
      { deliveryId: 'd-2', attempt: 1 },
      { deliveryId: 'd-4', attempt: 1 },
    ]);
    expect(w.handoffs).toEqual([]);
  });

  it('counts a delivery with nothing to send as skipped', async () => {
    const w = world({ send: async () => ({ sent: false }) });
    expect(await deliverBatch(jobs(2), w.deps)).toMatchObject({ sent: 0, skipped: 2 });
  });

  it('sends at most `concurrency` deliveries at once, and all of them in the end', async () => {
    let inFlight = 0;
    let most = 0;
    const sent: string[] = [];
    const w = world({
      concurrency: 3,
      send: async (j) => {
        inFlight++;
        most = Math.max(most, inFlight);
        // Stay in flight for a few turns so the lanes overlap.
        for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        sent.push(j.deliveryId);
        return { sent: true };
      },
    });
    expect(await deliverBatch(jobs(8), w.deps)).toMatchObject({ sent: 8 });
    expect(most).toBe(3);
    expect([...sent].sort()).toEqual(
      jobs(8)
        .map((j) => j.deliveryId)
        .sort(),
    );
  });

  it('gives each endpoint lanes of its own: a hanging receiver holds only its own deliveries', async () => {
    const slow = 'slow.example.com:443';
    const fast = 'fast.example.com:443';
    let unhang: () => void = () => {};
    const hanging = new Promise<void>((resolve) => {
      unhang = resolve;
    });
    const fastSent: string[] = [];
    const batch = jobs(12);
    // The first eight go to the hanging receiver: with one set of lanes for the batch they would take them all.
    const endpointOf = (j: NotifierDeliveryJob) => (Number(j.deliveryId.slice(2)) <= 8 ? slow : fast);
    const w = world({
      concurrency: 4,
      endpointOf,
      send: async (j) => {
        if (endpointOf(j) === slow) await hanging;
        else fastSent.push(j.deliveryId);
        return { sent: true };
      },
    });
    const done = deliverBatch(batch, w.deps);
    for (let i = 0; i < 20 && fastSent.length < 4; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(fastSent).toEqual(['d-9', 'd-10', 'd-11', 'd-12']);
    unhang();
    expect(await done).toMatchObject({ sent: 12 });
  });

  it('takes no endpoint slot for a delivery without an endpoint (email)', async () => {
    const w = world({ endpointOf: () => undefined });
    expect(await deliverBatch(jobs(2), w.deps)).toMatchObject({ sent: 2 });
    expect(w.acquired).toEqual([]);
    expect(w.releases).toEqual([]);
  });

  it('waits inside the job for a slot at a busy endpoint while the wait stays under maxWaitMs', async () => {
    const answers: AcquireResult[] = [
      { ok: false, retryInMs: 300 },
      { ok: false, retryInMs: 700 },
    ];
    const w = world({ maxWaitMs: 1_000 });
    w.deps.acquire = () => answers.shift() ?? w.lease();
    const outcome = await deliverBatch([job(1)], w.deps);
    expect(outcome).toEqual({ sent: 1, skipped: 0, retrying: 0, deferred: 0, dead: 0 });
    expect(w.sleeps).toEqual([300, 700]);
    expect(w.sent).toEqual([{ deliveryId: 'd-1', attempt: 1 }]);
    expect(w.handoffs).toEqual([]);
  });

  it('hands a delivery off as its own delayed job at attempt 1 when the wait would pass maxWaitMs', async () => {
    const w = world({ maxWaitMs: 1_000, acquire: () => ({ ok: false, retryInMs: 600 }) });
    const outcome = await deliverBatch([job(1)], w.deps);
    expect(outcome).toEqual({ sent: 0, skipped: 0, retrying: 0, deferred: 1, dead: 0 });
    // Waited once (600 <= 1000); a second 600 would make 1200.
    expect(w.sleeps).toEqual([600]);
    expect(w.handoffs).toEqual([{ deliveryId: 'd-1', delayMs: 600, firstAttempt: 1 }]);
    expect(w.sent).toEqual([]);
    expect(w.releases).toEqual([]);
  });

  it('hands a retryable failure off as its own job starting at attempt 2, after the schedule delay', async () => {
    const failure = new RetryableError('WEBHOOK_5XX', 'hooks.example.com answered 503');
    const delays: unknown[] = [];
    const w = world({
      send: async (j, attempt) => {
        w.sent.push({ deliveryId: j.deliveryId, attempt });
        if (j.deliveryId === 'd-2') throw failure;
        return { sent: true, latencyMs: 5 };
      },
      retryDelayMs: (err) => {
        delays.push(err);
        return 4_321;
      },
    });
    const outcome = await deliverBatch(jobs(3), w.deps);
    expect(outcome).toEqual({ sent: 2, skipped: 0, retrying: 1, deferred: 0, dead: 0 });
    expect(w.handoffs).toEqual([{ deliveryId: 'd-2', delayMs: 4_321, firstAttempt: 2 }]);
    expect(delays).toEqual([failure]);
    expect(w.dead).toEqual([]);
  });

  it('dead-letters a permanent failure at attempt 1 instead of handing it off', async () => {
    const gone = new PermanentError('WEBHOOK_GONE', 'hooks.example.com answered 410');
    const w = world({
      send: async (j) => {
        if (j.deliveryId === 'd-1') throw gone;
        return { sent: true };
      },
    });
    const outcome = await deliverBatch(jobs(2), w.deps);
    expect(outcome).toEqual({ sent: 1, skipped: 0, retrying: 0, deferred: 0, dead: 1 });
    expect(w.dead).toEqual([{ deliveryId: 'd-1', err: gone, attempt: 1 }]);
    expect(w.handoffs).toEqual([]);
  });

  it('dead-letters a retryable failure when the schedule has one attempt', async () => {
    const w = world({
      attempts: 1,
      send: async () => {
        throw new RetryableError('WEBHOOK_TIMEOUT', 'no answer in 10 s');
      },
    });
    const outcome = await deliverBatch([job(1)], w.deps);
    expect(outcome).toMatchObject({ retrying: 0, dead: 1 });
    expect(w.dead.map((d) => [d.deliveryId, d.attempt])).toEqual([['d-1', 1]]);
    expect(w.handoffs).toEqual([]);
  });

  it('fails the batch when a handoff fails, but only after every other delivery has settled', async () => {
    const events: string[] = [];
    const w = world({
      concurrency: 2,
      send: async (j) => {
        if (j.deliveryId === 'd-1') throw new RetryableError('WEBHOOK_5XX', '503');
        // d-2 and d-3 are still in flight when d-1's handoff fails.
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        events.push(`sent ${j.deliveryId}`);
        return { sent: true, latencyMs: 3 };
      },
      handoff: async () => {
        events.push('handoff failed');
        throw new Error('Connection is closed.');
      },
    });
    await expect(deliverBatch(jobs(3), w.deps)).rejects.toThrow('Connection is closed.');
    expect(events).toEqual(['handoff failed', 'sent d-2', 'sent d-3']);
    // Every lease went back, the failed one's too.
    expect(w.releases).toHaveLength(3);
  });

  it('gives the endpoint slot back with the request latency, or null when no request was made', async () => {
    const w = world({
      send: async (j) => {
        if (j.deliveryId === 'd-1') return { sent: true, latencyMs: 42 };
        if (j.deliveryId === 'd-2') throw new RetryableError('WEBHOOK_5XX', '503');
        throw new RetryableError('WEBHOOK_CONNECT', 'refused');
      },
      latencyOf: (err) => ((err as RetryableError).code === 'WEBHOOK_5XX' ? 17 : null),
      concurrency: 1,
    });
    await deliverBatch(jobs(3), w.deps);
    expect(w.releases).toEqual([42, 17, null]);
  });
});

/**
 * The real `deliver` over in-memory stand-ins for the stores and the endpoint: channel health as the
 * ChannelHealthStore keeps it (a 410 disables the channel), and a count of health reads.
 */
function deliverWorld(answer: (deliveryId: string) => number) {
  const subscription: Subscription = {
    id: 'sub-h',
    team: 't',
    filter: {},
    channels: [
      { type: 'webhook', url: 'https://hooks.example.com/h', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
    ],
    mode: 'immediate',
    paused: false,
  };
  const key = channelKey(subscription.channels[0]!);
  const alertOf = (n: number): Alert => ({
    id: `a-${n}`,
    storyId: `s-${n}`,
    itemId: `i-${n}`,
    feedId: 'wire',
    title: `Story ${n}`,
    summary: 'x',
    published: '2026-01-01T00:00:00Z',
    score: 1,
    severity: 'high',
    topics: [],
    jurisdictions: [],
    entities: [],
    evidence: [],
    rulesVersion: 't',
    sources: [{ feedId: 'wire', itemId: `i-${n}`, title: `Story ${n}`, published: '2026-01-01T00:00:00Z' }],
    createdAt: '2026-01-01T00:00:00Z',
  });
  const health = { disabled: false, failures: 0 };
  const counts = { reads: 0, recovered: 0 };
  const sent: string[] = [];
  const records: DeliveryAttempt[] = [];
  const deps: DeliverDeps = {
    subscription: (id) => (id === subscription.id ? subscription : undefined),
    story: async (storyId) => [alertOf(Number(storyId.slice(2)))],
    explain: (alert) => ({ matchedBy: ['all'], severity: alert.severity, watchEvidence: [] }),
    failureInfo: () => undefined,
    health: async () => {
      counts.reads++;
      return { disabled: health.disabled, failing: health.failures > 0 };
    },
    sendWebhook: async ({ deliveryId }) => {
      sent.push(deliveryId);
      const status = answer(deliveryId);
      if (status === 410) throw new PermanentError('WEBHOOK_GONE', 'hooks.example.com answered 410');
      if (status >= 500) throw new RetryableError('WEBHOOK_SERVER_ERROR', `answered ${status}`);
      return { code: status, latencyMs: 1 };
    },
    sendEmail: async () => ({ latencyMs: 1 }),
    unsubscribeUrl: () => 'https://x',
    record: async (attempt) => {
      records.push(attempt);
    },
    channelFailed: async ({ err }) => {
      health.failures++;
      if ((err as PermanentError).code === 'WEBHOOK_GONE') health.disabled = true;
    },
    channelRecovered: async () => {
      counts.recovered++;
      health.failures = 0;
    },
    disableAfterHours: 72,
    now: () => new Date('2026-01-01T00:01:00Z'),
  };
  const batch = [1, 2, 3, 4, 5].map((n) => alertJobFor(alertOf(n), subscription.id, key));
  const batchDeps = (concurrency: number, over: Partial<DeliverBatchDeps> = {}) => {
    const shared = withBatchHealth(deps);
    return world({ concurrency, send: (j, attempt) => deliver(j, attempt, shared), ...over });
  };
  return { deps, batch, health, counts, sent, records, batchDeps };
}

describe('withBatchHealth (the real deliver, one batch)', () => {
  it("reads the channel's health once for the whole batch", async () => {
    const w = deliverWorld(() => 200);
    const b = w.batchDeps(2);
    expect(await deliverBatch(w.batch, b.deps)).toMatchObject({ sent: 5 });
    expect(w.counts.reads).toBe(1);
    expect(w.sent).toHaveLength(5);
  });

  it('a channel a delivery of the batch disabled stops the rest of the batch (ENDPOINT_DISABLED)', async () => {
    const w = deliverWorld((id) => (id === w.batch[1]!.deliveryId ? 410 : 200));
    const b = w.batchDeps(1);
    expect(await deliverBatch(w.batch, b.deps)).toEqual({ sent: 1, skipped: 0, retrying: 0, deferred: 0, dead: 4 });
    // Sent the first two only; the failure's recording dropped the reading, so the third read the channel again.
    expect(w.sent).toEqual([w.batch[0]!.deliveryId, w.batch[1]!.deliveryId]);
    expect(w.counts.reads).toBe(2);
    expect(b.dead.map((d) => [d.deliveryId, (d.err as PermanentError).code])).toEqual([
      [w.batch[1]!.deliveryId, 'WEBHOOK_GONE'],
      ...w.batch.slice(2).map((d) => [d.deliveryId, 'ENDPOINT_DISABLED']),
    ]);
  });

  it('a success on a failing channel forgets its failures once, not once per delivery', async () => {
    const w = deliverWorld(() => 200);
    w.health.failures = 3;
    const b = w.batchDeps(1);
    expect(await deliverBatch(w.batch, b.deps)).toMatchObject({ sent: 5 });
    expect(w.counts.recovered).toBe(1);
    expect(w.counts.reads).toBe(1);
  });

  it('a failed read is not kept: the next delivery reads again', async () => {
    const w = deliverWorld(() => 200);
    const read = w.deps.health;
    let calls = 0;
    w.deps.health = async (s, k) => {
      calls++;
      if (calls === 1) throw new Error('Connection is closed.');
      return read(s, k);
    };
    const b = w.batchDeps(1);
    expect(await deliverBatch(w.batch, b.deps)).toMatchObject({ sent: 4, retrying: 1 });
    expect(calls).toBe(2);
  });
});

describe('withBatchStories (the real deliver, one batch)', () => {
  /** The batch's deliveries through `deliver` with its stories read by `read`; what each webhook carried. */
  function storiesWorld(concurrency: number) {
    const w = deliverWorld(() => 200);
    const reads: string[][] = [];
    const single: string[] = [];
    const story = w.deps.story;
    w.deps.story = async (storyId) => {
      single.push(storyId);
      return story(storyId);
    };
    const carried = new Map<string, string>();
    const send = w.deps.sendWebhook;
    w.deps.sendWebhook = async (args) => {
      carried.set(args.deliveryId, (args.event as WebhookAlertEvent).data.storyId);
      return send(args);
    };
    let failReads = 0;
    const read = async (ids: string[]) => {
      reads.push(ids);
      if (failReads > 0) {
        failReads--;
        throw new Error('Connection is closed.');
      }
      return new Map(await Promise.all(ids.map(async (id) => [id, await story(id)] as const)));
    };
    const shared = withBatchStories(
      w.deps,
      w.batch.map((d) => d.storyId),
      read,
    );
    const b = world({ concurrency, send: (j, attempt) => deliver(j, attempt, shared) });
    return { w, b, reads, single, carried, shared, failNextRead: () => void failReads++ };
  }

  it("reads the batch's stories in one call, and each delivery sends its own story", async () => {
    const s = storiesWorld(4);
    expect(await deliverBatch(s.w.batch, s.b.deps)).toMatchObject({ sent: 5 });
    expect(s.reads).toEqual([['s-1', 's-2', 's-3', 's-4', 's-5']]);
    expect(s.single).toEqual([]);
    expect(Object.fromEntries(s.carried)).toEqual(Object.fromEntries(s.w.batch.map((d) => [d.deliveryId, d.storyId])));
  });

  it('a failed read is not kept: the next delivery reads again', async () => {
    const s = storiesWorld(1);
    s.failNextRead();
    expect(await deliverBatch(s.w.batch, s.b.deps)).toMatchObject({ sent: 4, retrying: 1 });
    expect(s.reads).toHaveLength(2);
    expect(s.b.handoffs.map((h) => h.deliveryId)).toEqual([s.w.batch[0]!.deliveryId]);
  });

  it('hands each story read out once: asked again, it is read on its own', async () => {
    const s = storiesWorld(1);
    expect(await s.shared.story('s-2')).toMatchObject([{ id: 'a-2' }]);
    expect(await s.shared.story('s-2')).toMatchObject([{ id: 'a-2' }]);
    expect(await s.shared.story('s-3')).toMatchObject([{ id: 'a-3' }]);
    expect(s.reads).toEqual([['s-1', 's-2', 's-3', 's-4', 's-5']]);
    expect(s.single).toEqual(['s-2']);
  });

  it('a story not of the batch is read on its own; a story with no alerts left is ALERT_EXPIRED', async () => {
    const s = storiesWorld(1);
    expect(await s.shared.story('s-9')).toMatchObject([{ id: 'a-9' }]);
    expect(s.single).toEqual(['s-9']);
    expect(s.reads).toEqual([]);
    const gone = withBatchStories(s.w.deps, ['s-1'], async () => new Map([['s-1', []]]));
    await expect(deliver(s.w.batch[0]!, 1, gone)).rejects.toMatchObject({ code: 'ALERT_EXPIRED' });
  });
});

describe('deliver: the story size read with the record', () => {
  it('records through recordAndCount and queues alert.updated when the story grew during the send', async () => {
    const w = deliverWorld(() => 200);
    const counted: Array<[string, number | undefined, string]> = [];
    const queued: NotifierDeliveryJob[] = [];
    const sizes = new Map([['s-2', 3]]);
    w.deps.updates = {
      recordAndCount: async (attempt, meta, storyId) => {
        w.records.push(attempt);
        counted.push([attempt.deliveryId, meta.sources, storyId]);
        return sizes.get(storyId) ?? 1;
      },
      enqueue: async (j) => {
        queued.push(j);
      },
    };
    const [first, second] = w.batch as [NotifierDeliveryJob, NotifierDeliveryJob];
    expect(await deliver(first, 1, w.deps)).toEqual({ sent: true, code: 200, latencyMs: 1, sources: 1 });
    const grown = await deliver(second, 1, w.deps);
    expect(grown).toMatchObject({ sent: true, sources: 1, updateQueued: queued[0]?.deliveryId });
    expect(counted).toEqual([
      [first.deliveryId, 1, 's-1'],
      [second.deliveryId, 1, 's-2'],
    ]);
    expect(queued.map((j) => [j.kind, j.storyId, j.sources])).toEqual([['update', 's-2', 3]]);
    expect(w.records.map((r) => [r.ok, r.code, r.attempt])).toEqual([
      [true, 200, 1],
      [true, 200, 1],
    ]);
  });
});
