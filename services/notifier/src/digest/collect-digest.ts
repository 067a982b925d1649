import type { Subscription } from '@regwatch/contracts';
import type { NotifierDeliveryJob } from '../notify/jobs.js';
import { channelKey, digestDeliveryIdFor } from '../notify/keys.js';
import type { DigestWindow } from './digest-bucket.js';
import { digestRepeatOf } from './schedule.js';

/** Stories one digest delivery lists at most (ids travel in the job); the rest are counted. */
export const DIGEST_MAX_JOB_STORIES = 500;

export interface CollectDigestDeps {
  subscription: (id: string) => Subscription | undefined;
  window: (subscriptionId: string, endMs: number, max: number) => Promise<DigestWindow>;
  enqueue: (job: NotifierDeliveryJob) => Promise<void>;
  commit: (subscriptionId: string, endMs: number) => Promise<void>;
}

export interface CollectDigestOutcome {
  stories: number;
  /** Delivery jobs queued: one per channel, or none for an empty window. */
  queued: number;
  skipped?: 'gone' | 'paused' | 'not-digest';
}

/**
 * Closes one digest window: the stories routed up to `windowEndMs` become one delivery per
 * channel (an email listing them, or an `alert.digest` webhook), with a delivery id fixed by
 * (subscription, channel, window end), then leave the bucket. Enqueue before commit: a tick that
 * dies in between is re-run for the same window and BullMQ drops the duplicate jobs by id.
 * An empty window sends nothing.
 */
export async function collectDigest(
  subscriptionId: string,
  windowEndMs: number,
  deps: CollectDigestDeps,
): Promise<CollectDigestOutcome> {
  const subscription = deps.subscription(subscriptionId);
  if (!subscription) return { stories: 0, queued: 0, skipped: 'gone' };
  if (subscription.paused) return { stories: 0, queued: 0, skipped: 'paused' };
  if (subscription.mode !== 'digest') return { stories: 0, queued: 0, skipped: 'not-digest' };
  const w = await deps.window(subscriptionId, windowEndMs, DIGEST_MAX_JOB_STORIES);
  if (w.storyIds.length === 0) {
    await deps.commit(subscriptionId, windowEndMs);
    return { stories: 0, queued: 0 };
  }
  const from =
    w.lastEnd !== undefined && w.lastEnd < windowEndMs
      ? w.lastEnd
      : windowEndMs - digestRepeatOf(subscription).periodMs;
  const window = { from: new Date(from).toISOString(), to: new Date(windowEndMs).toISOString() };
  const storyIds = [...w.storyIds].reverse();
  let queued = 0;
  for (const channel of subscription.channels) {
    const key = channelKey(channel);
    await deps.enqueue({
      v: 1,
      kind: 'digest',
      deliveryId: digestDeliveryIdFor(subscription.id, key, windowEndMs),
      alertId: '',
      storyId: '',
      subscriptionId: subscription.id,
      channelKey: key,
      storyIds,
      window,
      omitted: Math.max(0, w.total - storyIds.length),
    });
    queued++;
  }
  await deps.commit(subscriptionId, windowEndMs);
  return { stories: w.total, queued };
}
