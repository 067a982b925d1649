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
