import { randomUUID } from 'node:crypto';
import { type Alert, AlertSchema, type Subscription } from '@regwatch/contracts';
import { alertJobFor, channelKey, deliveryJobOptions } from '@regwatch/notifier';
import type { AlertStore } from '@regwatch/store';
import type { Queue } from 'bullmq';

/** The feed id test alerts carry, so they are easy to tell apart in the alert history. */
export const TEST_FEED_ID = 'regwatch-test';

export interface TestSend {
  alertId: string;
  storyId: string;
  deliveries: Array<{ deliveryId: string; channel: 'webhook' | 'email'; channelKey: string }>;
}

/** A harmless alert that says what it is, shaped like a real one so every channel renders it. */
export function buildTestAlert(subscription: Subscription, now = new Date()): Alert {
  const story = `test-${randomUUID()}`;
  const title = `regwatch test alert for subscription "${subscription.name ?? subscription.id}"`;
  const published = now.toISOString();
  return AlertSchema.parse({
    id: story,
    storyId: story,
    itemId: story,
    feedId: TEST_FEED_ID,
    title,
    summary:
      'This is a test sent from the regwatch API to check that this channel receives alerts. ' + 'No action is needed.',
    published,
    score: 1,
    severity: subscription.filter.minSeverity ?? 'notice',
    topics: subscription.filter.topics?.slice(0, 3) ?? ['export_controls'],
    jurisdictions: subscription.filter.jurisdictions?.slice(0, 3) ?? [],
    entities: subscription.filter.entities?.slice(0, 3) ?? [],
    evidence: [],
    rulesVersion: 'test',
    sources: [{ feedId: TEST_FEED_ID, itemId: story, title, published }],
    fetchedAt: published,
    createdAt: published,
  });
}

/**
 * Sends a test alert through the subscription's real channels: the alert is stored (the notifier
 * reads a delivery's story from the alert store) and one delivery job per channel is queued the
 * way the notifier queues its own, so it is signed, rendered, retried and logged like any alert.
 */
export async function sendTestAlert(
  deps: { alerts: AlertStore; deliveries: Queue; attempts?: number; now?: () => Date },
  subscription: Subscription,
): Promise<TestSend> {
  const alert = buildTestAlert(subscription, deps.now?.() ?? new Date());
  await deps.alerts.save(alert);
  const deliveries: TestSend['deliveries'] = [];
  for (const channel of subscription.channels) {
    const key = channelKey(channel);
    // The notifier's own job and options, so a test send is delivered and retried like any alert.
    const job = alertJobFor(alert, subscription.id, key);
    const { deliveryId } = job;
    await deps.deliveries.add('deliver', job, deliveryJobOptions(deliveryId, deps.attempts));
    deliveries.push({ deliveryId, channel: channel.type, channelKey: key });
  }
  return { alertId: alert.id, storyId: alert.storyId, deliveries };
}
