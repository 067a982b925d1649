import { type Alert, isPermanent } from '@regwatch/contracts';
import type { AcquireResult } from '../delivery/endpoint-limiter.js';
import type { DeliverDeps, DeliverOutcome } from './deliver.js';
import type { NotifierDeliveryJob } from './jobs.js';

export type DeliveryState = 'delivered' | 'retrying' | 'dead';

export interface DeliverBatchDeps {
  /**
   * Each delivery's state in the delivery log (undefined: no attempt recorded). A retried batch, or
   * one a crashed notifier left, finds some delivered, dead or already handed off as retrying.
   */
  states: (deliveryIds: string[]) => Promise<Array<DeliveryState | undefined>>;
  /** True when this batch job ran before (a retry, or a restart after a stall). */
  isRetry: boolean;
  /** Whether a delivery has a `deliver` job of its own (one deferred by an earlier run of this batch). */
  hasOwnJob: (deliveryId: string) => Promise<boolean>;
  /** The endpoint (host:port) a delivery calls, when it is a webhook whose channel resolves. */
  endpointOf: (job: NotifierDeliveryJob) => string | undefined;
  /**
   * A slot at the endpoint (the notifier's per-endpoint limiter), or how long to wait for one.
   * `reserve: false` while waiting in the job (ask again without queueing), true for the last ask
   * before the delivery leaves as a delayed job (it takes its place in the endpoint's queue).
   */
  acquire: (endpoint: string, options: { reserve: boolean }) => AcquireResult;
  /** One attempt of one delivery: `deliver` with the notifier's dependencies. */
  send: (job: NotifierDeliveryJob, attempt: number) => Promise<DeliverOutcome>;
  /** The endpoint's own request time a failed attempt carries, for the limiter; null when unknown. */
  latencyOf: (err: unknown) => number | null;
  /** Takes a delivery out of the batch: its own `deliver` job, after `delayMs`, whose first attempt is `firstAttempt`. */
  handoff: (job: NotifierDeliveryJob, options: { delayMs: number; firstAttempt: number }) => Promise<void>;
  /** Dead-letters a delivery (a permanent error, or a schedule with one attempt). */
  deadLetter: (job: NotifierDeliveryJob, err: unknown, attempt: number) => Promise<void>;
  /** The delay before a failed delivery's second attempt (the schedule's first step, or a longer Retry-After). */
  retryDelayMs: (err: unknown) => number;
  /** Attempts the retry schedule makes per delivery. */
  attempts: number;
  /** Deliveries of the batch in flight at once to one endpoint (to one channel, when it has no endpoint). */
  concurrency: number;
  /**
   * How long a delivery waits inside the job for a slot at its endpoint. Longer waits (a slow or
   * hanging endpoint) leave the batch as a delayed job, so the worker slot is not held.
   */
  maxWaitMs: number;
  sleep: (ms: number) => Promise<void>;
}

export interface BatchOutcome {
  sent: number;
  /** Already delivered (a retried batch), or nothing to send. */
  skipped: number;
  /** First attempt failed: left as its own job for the rest of the schedule. */
  retrying: number;
  /** No endpoint slot within `maxWaitMs`: left as its own delayed job, no attempt made. */
  deferred: number;
  dead: number;
}

/**
 * The first attempt of each delivery of a `deliver-batch` job. Each delivery is its own message
 * (its own id, signature and record); the batch only shares the job. Per delivery: skip it if it
 * already went out, take an endpoint slot (waiting up to `maxWaitMs`), send, record. A failure
 * never fails the batch: a permanent one is dead-lettered, a retryable one leaves as a `deliver`
 * job starting at attempt 2 on the usual schedule. Only our own trouble (Redis gone while handing
 * off) fails the batch job. Its retry sends only what no earlier run attempted: delivered and
 * dead-lettered deliveries are skipped, ones already handed off are handed off again (a no-op when
 * their job exists), so no delivery is sent twice by the batch.
 */
export async function deliverBatch(
  batch: readonly NotifierDeliveryJob[],
  deps: DeliverBatchDeps,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { sent: 0, skipped: 0, retrying: 0, deferred: 0, dead: 0 };
  const states = await deps.states(batch.map((d) => d.deliveryId));
  const todo: NotifierDeliveryJob[] = [];
  for (const [i, job] of batch.entries()) {
    const state = states[i];
    if (state === 'delivered' || state === 'dead') {
      outcome.skipped++;
    } else if (state === 'retrying') {
      // An earlier run made its first attempt and handed it off: hand it off again (the job id
      // makes that a no-op when the first handoff landed), never send it from here a second time.
      await deps.handoff(job, { delayMs: deps.retryDelayMs(undefined), firstAttempt: 2 });
      outcome.retrying++;
    } else if (deps.isRetry && (await deps.hasOwnJob(job.deliveryId))) {
      // Deferred by an earlier run (endpoint busy): its own job sends it.
      outcome.deferred++;
    } else {
      todo.push(job);
    }
  }

  const one = async (job: NotifierDeliveryJob): Promise<void> => {
    const endpoint = deps.endpointOf(job);
    let lease: Extract<AcquireResult, { ok: true }>['lease'] | undefined;
    if (endpoint) {
      let waited = 0;
      for (;;) {
        const slot = deps.acquire(endpoint, { reserve: false });
        if (slot.ok) {
          lease = slot.lease;
          break;
        }
        if (waited + slot.retryInMs > deps.maxWaitMs) {
          const last = deps.acquire(endpoint, { reserve: true });
          if (last.ok) {
            lease = last.lease;
            break;
          }
          await deps.handoff(job, { delayMs: last.retryInMs, firstAttempt: 1 });
          outcome.deferred++;
          return;
        }
        await deps.sleep(slot.retryInMs);
        waited += slot.retryInMs;
      }
    }
    let requestMs: number | null = null;
    try {
      const result = await deps.send(job, 1);
      requestMs = result.latencyMs ?? null;
      if (result.sent) outcome.sent++;
      else outcome.skipped++;
    } catch (err) {
      requestMs = deps.latencyOf(err);
      if (isPermanent(err) || deps.attempts <= 1) {
        await deps.deadLetter(job, err, 1);
        outcome.dead++;
      } else {
        await deps.handoff(job, { delayMs: deps.retryDelayMs(err), firstAttempt: 2 });
        outcome.retrying++;
      }
    } finally {
      lease?.release(requestMs);
    }
  };

  // Lanes per endpoint (per channel when there is none, as for email): a batch may hold deliveries
  // to several receivers, and a slow one holds only its own lanes, never another's deliveries.
  const groups = new Map<string, NotifierDeliveryJob[]>();
  for (const job of todo) {
    const key = deps.endpointOf(job) ?? `channel\n${job.subscriptionId}\n${job.channelKey}`;
    const group = groups.get(key);
    if (group) group.push(job);
    else groups.set(key, [job]);
  }
  const lanes: Array<Promise<void>> = [];
  for (const group of groups.values()) {
    let next = 0;
    const count = Math.max(1, Math.min(deps.concurrency, group.length));
    for (let k = 0; k < count; k++) {
      lanes.push(
        (async () => {
          while (next < group.length) await one(group[next++]!);
        })(),
      );
    }
  }
  // Every lane finishes before the job does; the first error (our own, e.g. Redis) then fails it.
  const settled = await Promise.allSettled(lanes);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return outcome;
}

type Health = Awaited<ReturnType<DeliverDeps['health']>>;

/**
 * `deliver`'s dependencies for one batch job, reading each channel's health once for the batch
 * instead of once per delivery of that channel. The reading follows what the batch itself does to
 * the channel: a failure recorded by one of its deliveries drops the reading, so the channel's next
 * delivery reads it again and one the failure disabled stops the channel's other deliveries
 * (`ENDPOINT_DISABLED`), as it did when each delivery read it; a recovery recorded by one clears
 * `failing`, so the others do not record it again. A failed read is not kept (the next delivery
 * tries again). Make one per batch job: a reading lives as long as the job.
 */
export function withBatchHealth(deps: DeliverDeps): DeliverDeps {
  const readings = new Map<string, Promise<Health>>();
  const keyOf = (subscriptionId: string, key: string) => `${subscriptionId}\n${key}`;
  return {
    ...deps,
    health: (subscriptionId, key) => {
      const k = keyOf(subscriptionId, key);
      let reading = readings.get(k);
      if (reading === undefined) {
        const read = deps.health(subscriptionId, key);
        reading = read;
        readings.set(k, read);
        read.catch(() => {
          if (readings.get(k) === read) readings.delete(k);
        });
      }
      return reading;
    },
    channelFailed: async (args) => {
      const k = keyOf(args.subscription.id, args.key);
      readings.delete(k);
      try {
        await deps.channelFailed(args);
      } finally {
        // Also a reading taken while the failure was being recorded: it may predate it.
        readings.delete(k);
      }
    },
    channelRecovered: async (subscriptionId, key) => {
      const k = keyOf(subscriptionId, key);
      const before = readings.get(k);
      await deps.channelRecovered(subscriptionId, key);
      // Only the reading the success was made under: a failure recorded meanwhile replaced or dropped it.
      if (before !== undefined && readings.get(k) === before) {
        readings.set(
          k,
          before.then((h) => ({ disabled: h.disabled, failing: false })),
        );
      }
    },
  };
}

/**
 * `deliver`'s dependencies for one batch job, reading the stories of the batch's deliveries in one
 * call (`AlertStore.stories`, one script) when the first delivery asks for its story, instead of one
 * call per delivery. A delivery may so send a story as it was when the batch read it: a source saved
 * since is still delivered, since the record script counts the story after the send and queues
 * `alert.updated` when it has more alerts than were sent (as for a source saved during the send).
 * Each story read is handed out once and then dropped, so a delivery's alerts are not kept alive
 * until the whole batch is done; a second ask, a story not of the batch (a digest's) and the asks
 * after a failed read (it is not kept) read on their own. Make one per batch job.
 */
export function withBatchStories(
  deps: DeliverDeps,
  storyIds: readonly string[],
  readStories: (storyIds: string[]) => Promise<Map<string, Alert[]>>,
): DeliverDeps {
  // The stories not handed out yet (a failed read leaves them for the next ask to read again).
  const unread = new Set(storyIds.filter((id) => id !== ''));
  let reading: Promise<Map<string, Alert[]>> | undefined;
  return {
    ...deps,
    story: async (storyId) => {
      if (!unread.has(storyId)) return deps.story(storyId);
      if (reading === undefined) {
        const read = readStories([...unread]);
        reading = read;
        read.catch(() => {
          if (reading === read) reading = undefined;
        });
      }
      const stories = await reading;
      const alerts = stories.get(storyId);
      if (!unread.delete(storyId) || alerts === undefined) return deps.story(storyId);
      stories.delete(storyId);
      return alerts;
    },
  };
}
