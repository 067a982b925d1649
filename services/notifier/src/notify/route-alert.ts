import type { Alert, Subscription } from '@regwatch/contracts';
import { alertJobFor, updateJobFor } from './deliver.js';
import type { NotifierDeliveryJob } from './jobs.js';
import { channelKey, deliveryIdFor, digestMarkFor } from './keys.js';

export interface RouteAlertDeps {
  /** Subscriptions that want this alert (through the routing index). */
  match: (alert: Alert) => readonly Subscription[];
  /** True when this id was queued before (a digest mark: the story is in the window already). */
  isQueued: (deliveryId: string) => Promise<boolean>;
  /**
   * Claims a delivery for this alert, atomically: true when it was free, or already this alert's
   * (a retry of the job that claimed it); false when another alert of the story claimed it (an
   * earlier source, or one routed at the same moment by another job). The claim is the "queued"
   * mark, so it outlives the queue's finished jobs.
   */
  claim: (deliveryId: string, alertId: string) => Promise<boolean>;
  /** Queues delivery jobs (several at once: one write); idempotent per delivery id. */
  enqueue: (jobs: NotifierDeliveryJob[]) => Promise<void>;
  /** Remembers that a digest mark was queued, for longer than the queue keeps finished jobs. */
  markQueued: (deliveryId: string) => Promise<void>;
  /** Puts the story into a digest subscription's current window (idempotent per story). */
  addToDigest?: (subscriptionId: string, storyId: string) => Promise<void>;
  /**
   * `alert.updated` for webhook channels: how many alerts the story's delivery carried once it
   * succeeded (undefined while it has not), and how many the story has now. Without it, later
   * sources of a delivered story are not announced.
   */
  updates?: {
    deliveredSources: (deliveryId: string) => Promise<number | undefined>;
    storySize: (storyId: string) => Promise<number>;
  };
}

export interface RouteOutcome {
  matched: number;
  queued: number;
  /** Deliveries skipped because the story already went out (a later source of it). */
  alreadyQueued: number;
  /** `alert.updated` deliveries queued for webhook channels that already had the story. */
  updates: number;
  /** Stories put into digest windows. */
  digested: number;
}

/**
 * Turns one alert into delivery jobs: one per matching subscription and channel, once per
 * story. Claim, then enqueue: the claim (the "queued" mark, holding the claiming alert's id) is
 * atomic, so of two sources routed at once only one queues the delivery; a crash between claim
 * and enqueue is repaired by the retry, which finds the claim its own and enqueues again
 * (deduplicated by job id, and by the notifier's delivery-state check).
 *
 * A later source of a story already queued is not delivered again. While that delivery has not
 * gone out it will carry the new source anyway (it loads the story when it sends); once it has,
 * webhook channels get an `alert.updated` listing every source, once per source count. Email
 * channels get no update mail. Digest subscriptions collect the story into their window instead.
 */
export async function routeAlert(alert: Alert, deps: RouteAlertDeps): Promise<RouteOutcome> {
  return routeAlerts([alert], deps);
}

/**
 * {@link routeAlert} for the alerts of one batch of items at once, with the same outcome as routing
 * them one after another: every "queued?" check is asked together, the new deliveries are queued
 * in one call, then all marked. Two alerts of one story in the batch make one delivery (the
 * second is counted as already queued: the delivery carries every source when it is sent).
 */
export async function routeAlerts(alerts: readonly Alert[], deps: RouteAlertDeps): Promise<RouteOutcome> {
  const outcome: RouteOutcome = { matched: 0, queued: 0, alreadyQueued: 0, updates: 0, digested: 0 };
  interface Candidate {
    alert: Alert;
    subscription: Subscription;
    /** Absent for a digest subscription: the id is its digest mark. */
    channel?: Subscription['channels'][number];
    key?: string;
    id: string;
  }
  const candidates: Candidate[] = [];
  for (const alert of alerts) {
    const matches = deps.match(alert);
    outcome.matched += matches.length;
    for (const subscription of matches) {
      if (subscription.mode === 'digest' && deps.addToDigest) {
        candidates.push({ alert, subscription, id: digestMarkFor(alert.storyId, subscription.id) });
        continue;
      }
      for (const channel of subscription.channels) {
        const key = channelKey(channel);
        candidates.push({ alert, subscription, channel, key, id: deliveryIdFor(alert.storyId, subscription.id, key) });
      }
    }
  }
  if (candidates.length === 0) return outcome;
  // Claim, then enqueue: two jobs routing two sources of one story at the same moment cannot both
  // queue its delivery (they used to be saved by BullMQ's job id, which a batch of deliveries no
  // longer is), and a crash between the two is repaired by the retry, whose claim is still its own.
  const queued = await Promise.all(
    candidates.map(async (c) => (c.channel ? !(await deps.claim(c.id, c.alert.id)) : deps.isQueued(c.id))),
  );
  const taken = new Set<string>();
  const fresh: NotifierDeliveryJob[] = [];
  const sizes = new Map<string, Promise<number>>();
  const updateIds = new Set<string>();
  for (const [i, c] of candidates.entries()) {
    if (!queued[i] && taken.has(c.id)) {
      // A second alert of a story this batch already queues: that delivery will carry it.
      outcome.alreadyQueued++;
      continue;
    }
    if (queued[i]) {
      outcome.alreadyQueued++;
      if (c.channel?.type !== 'webhook' || !deps.updates || !c.key) continue;
      const delivered = await deps.updates.deliveredSources(c.id);
      if (delivered === undefined) continue;
      let size = sizes.get(c.alert.storyId);
      if (!size) {
        size = deps.updates.storySize(c.alert.storyId);
        sizes.set(c.alert.storyId, size);
      }
      const now = await size;
      if (now <= delivered) continue;
      const update = updateJobFor(
        { storyId: c.alert.storyId, subscriptionId: c.subscription.id, channelKey: c.key, alertId: c.alert.id },
        now,
      );
      if (updateIds.has(update.deliveryId)) continue;
      updateIds.add(update.deliveryId);
      await deps.enqueue([update]);
      outcome.updates++;
      continue;
    }
    taken.add(c.id);
    if (!c.channel) {
      await deps.addToDigest!(c.subscription.id, c.alert.storyId);
      await deps.markQueued(c.id);
      outcome.digested++;
      continue;
    }
    fresh.push(alertJobFor(c.alert, c.subscription.id, c.key!));
  }
  if (fresh.length > 0) {
    await deps.enqueue(fresh);
    outcome.queued += fresh.length;
  }
  return outcome;
}
