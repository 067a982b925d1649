import { createHash } from 'node:crypto';
import type { Channel } from '@regwatch/contracts';

function hash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * A channel's identity within a subscription, from what it delivers to (not its position), so
 * reordering channels in the config does not re-send anything.
 */
export function channelKey(channel: Channel): string {
  let key = keys.get(channel);
  if (key === undefined) {
    key = computeChannelKey(channel);
    keys.set(channel, key);
  }
  return key;
}

// Every delivery resolves its channel by key: hash each configured channel once, not per delivery.
// Config objects are not changed in place (a reload builds new ones), so the cache cannot go stale.
const keys = new WeakMap<Channel, string>();

function computeChannelKey(channel: Channel): string {
  if (channel.type === 'webhook') return `w${hash(channel.url, 16)}`;
  return `e${hash(
    [...channel.to]
      .map((a) => a.toLowerCase())
      .sort()
      .join(','),
    16,
  )}`;
}

/**
 * One delivery per (story, subscription, channel): the BullMQ job id and the `webhook-id`
 * header. Deterministic, so processing an alert twice — or a second source of the same story —
 * never delivers twice.
 */
export function deliveryIdFor(storyId: string, subscriptionId: string, key: string): string {
  return `d-${hash(`${storyId}\n${subscriptionId}\n${key}`, 32)}`;
}

/**
 * The `alert.updated` delivery of a story that has grown to `sources` alerts: one per new source,
 * however many replicas or retries notice it.
 */
export function updateDeliveryIdFor(storyId: string, subscriptionId: string, key: string, sources: number): string {
  return `u-${hash(`${storyId}\n${subscriptionId}\n${key}\n${sources}`, 32)}`;
}

/** One digest per (subscription, channel, window end): a re-run tick of the same window sends nothing new. */
export function digestDeliveryIdFor(subscriptionId: string, key: string, windowEndMs: number): string {
  return `g-${hash(`${subscriptionId}\n${key}\n${windowEndMs}`, 32)}`;
}

/** The notice that a channel was disabled: one per disabling. */
export function noticeDeliveryIdFor(subscriptionId: string, key: string, disabledAt: string): string {
  return `n-${hash(`${subscriptionId}\n${key}\n${disabledAt}`, 32)}`;
}

/** Marks "this story is in this subscription's digest" (the digest's equivalent of a queued delivery). */
export function digestMarkFor(storyId: string, subscriptionId: string): string {
  return `m-${hash(`${storyId}\n${subscriptionId}\ndigest`, 32)}`;
}
