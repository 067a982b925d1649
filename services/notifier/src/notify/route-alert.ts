import type { Alert, DeliveryJob, Subscription } from '@regwatch/contracts';
import { channelKey, deliveryIdFor } from './keys.js';

export interface RouteAlertDeps {
  /** Subscriptions that want this alert (through the routing index). */
  match: (alert: Alert) => Array<{ subscription: Subscription }>;
  /** True when this delivery id was queued before (an earlier source of the same story). */
  isQueued: (deliveryId: string) => Promise<boolean>;
  /** Queues a delivery job; idempotent per delivery id (it is the BullMQ job id). */
  enqueue: (job: DeliveryJob) => Promise<void>;
  /** Remembers that a delivery id was queued, for longer than the queue keeps finished jobs. */
  markQueued: (deliveryId: string) => Promise<void>;
}

export interface RouteOutcome {
  matched: number;
  queued: number;
  /** Deliveries skipped because the story already went out (a later source of it). */
  alreadyQueued: number;
}

/**
 * Turns one alert into delivery jobs: one per matching subscription and channel, once per
 * story. Check, enqueue, then mark: a crash between enqueue and mark is repaired by the retry,
 * whose enqueue BullMQ deduplicates by job id; the reverse order could lose a delivery.
 */
export async function routeAlert(alert: Alert, deps: RouteAlertDeps): Promise<RouteOutcome> {
  const matches = deps.match(alert);
  let queued = 0;
  let alreadyQueued = 0;
  for (const { subscription } of matches) {
    for (const channel of subscription.channels) {
      const key = channelKey(channel);
      const deliveryId = deliveryIdFor(alert.storyId, subscription.id, key);
      if (await deps.isQueued(deliveryId)) {
        alreadyQueued++;
        continue;
      }
      await deps.enqueue({
        v: 1,
        deliveryId,
        alertId: alert.id,
        storyId: alert.storyId,
        subscriptionId: subscription.id,
        channelKey: key,
      });
      await deps.markQueued(deliveryId);
      queued++;
    }
  }
  return { matched: matches.length, queued, alreadyQueued };
}
