import type { Alert, Subscription } from '@regwatch/contracts';
import { alertJobFor, updateJobFor } from './deliver.js';
import type { NotifierDeliveryJob } from './jobs.js';
import { channelKey, deliveryIdFor, digestMarkFor } from './keys.js';

export interface RouteAlertDeps {
  /** Subscriptions that want this alert (through the routing index). */
  match: (alert: Alert) => readonly Subscription[];
  /** True when this delivery id was queued before (an earlier source of the same story). */
  isQueued: (deliveryId: string) => Promise<boolean>;
  /** Queues a delivery job; idempotent per delivery id (it is the BullMQ job id). */
  enqueue: (job: NotifierDeliveryJob) => Promise<void>;
  /** Remembers that a delivery id was queued, for longer than the queue keeps finished jobs. */
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
 * story. Check, enqueue, then mark: a crash between enqueue and mark is repaired by the retry,
 * whose enqueue BullMQ deduplicates by job id; the reverse order could lose a delivery.
 *
 * A later source of a story already queued is not delivered again. While that delivery has not
 * gone out it will carry the new source anyway (it loads the story when it sends); once it has,
 * webhook channels get an `alert.updated` listing every source, once per source count. Email
 * channels get no update mail. Digest subscriptions collect the story into their window instead.
 */
export async function routeAlert(alert: Alert, deps: RouteAlertDeps): Promise<RouteOutcome> {
  const matches = deps.match(alert);
  const outcome: RouteOutcome = { matched: matches.length, queued: 0, alreadyQueued: 0, updates: 0, digested: 0 };
  let size: Promise<number> | undefined;
  for (const subscription of matches) {
    if (subscription.mode === 'digest' && deps.addToDigest) {
      const mark = digestMarkFor(alert.storyId, subscription.id);
      if (await deps.isQueued(mark)) {
        outcome.alreadyQueued++;
        continue;
      }
      await deps.addToDigest(subscription.id, alert.storyId);
      await deps.markQueued(mark);
      outcome.digested++;
      continue;
    }
    for (const channel of subscription.channels) {
      const key = channelKey(channel);
      const deliveryId = deliveryIdFor(alert.storyId, subscription.id, key);
      if (await deps.isQueued(deliveryId)) {
        outcome.alreadyQueued++;
        if (channel.type === 'webhook' && deps.updates) {
          const delivered = await deps.updates.deliveredSources(deliveryId);
          if (delivered === undefined) continue;
          size ??= deps.updates.storySize(alert.storyId);
          const now = await size;
          if (now > delivered) {
            await deps.enqueue(
              updateJobFor(
                { storyId: alert.storyId, subscriptionId: subscription.id, channelKey: key, alertId: alert.id },
                now,
              ),
            );
            outcome.updates++;
          }
        }
        continue;
      }
      await deps.enqueue(alertJobFor(alert, subscription.id, key));
      await deps.markQueued(deliveryId);
      outcome.queued++;
    }
  }
  return outcome;
}
