import { randomBytes } from 'node:crypto';
import { AlertJobSchema, type DeliveryJob, DeliveryJobSchema, QUEUES, type Subscription } from '@regwatch/contracts';
import type { Logger } from '@regwatch/logger';
import type { AddressPolicy } from '@regwatch/outbound';
import { createQueue, startWorker, stateKey } from '@regwatch/queue';
import { AlertStore, DeliveryLog } from '@regwatch/store';
import type { Redis } from 'ioredis';
import { getAttemptInfo } from './delivery/attempt-info.js';
import { createMailer, sendEmail } from './delivery/email.js';
import { DELIVERY_ATTEMPTS, deliveryBackoffStrategy } from './delivery/retry.js';
import { signUnsubscribeToken } from './delivery/unsubscribe-token.js';
import { buildWebhookEvent, sendWebhook } from './delivery/webhook.js';
import { deliver } from './notify/deliver.js';
import { routeAlert } from './notify/route-alert.js';
import { renderAlertEmail } from './render/alert-email.js';
import { buildRoutingIndex, explainMatch, type RoutingIndex } from './routing/routing-index.js';

export interface NotifierDeps {
  connection: Redis;
  prefix: string;
  log: Logger;
  policy: AddressPolicy;
  /** The current subscriptions; a getter so changes apply to the next alert. */
  subscriptions: () => readonly Subscription[];
  email: { smtpUrl?: string; outboxDir?: string; from: string };
  /** Base URL of the api as recipients reach it, for unsubscribe links. */
  publicUrl: string;
  /** HMAC key for unsubscribe links; without one, a random key is kept in Redis for all replicas. */
  unsubscribeSecret?: string;
  /** Overrides the delivery retry schedule (tests); default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h. */
  deliveryBackoff?: (attemptsMade: number, type?: string, err?: Error) => number;
  concurrency?: { alerts?: number; deliveries?: number };
}

/** How long "this story went to this channel" is remembered: longer than any feed re-surfaces an item. */
const QUEUED_MARK_SECONDS = 30 * 24 * 3600;

async function unsubscribeKey(deps: NotifierDeps): Promise<string> {
  if (deps.unsubscribeSecret) return deps.unsubscribeSecret;
  const key = stateKey(deps.prefix, 'secret', 'unsubscribe');
  await deps.connection.set(key, randomBytes(32).toString('base64url'), 'NX');
  return (await deps.connection.get(key))!;
}

/**
 * Thin BullMQ wiring around `routeAlert` (alerts → one delivery job per story, subscription and
 * channel) and `deliver` (one attempt at one channel, retried on the delivery schedule).
 */
export async function startNotifier(deps: NotifierDeps): Promise<{ close(): Promise<void> }> {
  const { connection, prefix, log } = deps;
  const deliveriesQueue = createQueue(QUEUES.deliveries, { connection, prefix });
  const alerts = new AlertStore(connection, { prefix });
  const deliveryLog = new DeliveryLog(connection, prefix);
  const mailer = createMailer(deps.email);
  const secret = await unsubscribeKey(deps);
  const publicUrl = deps.publicUrl.replace(/\/+$/, '');

  let indexed: { source: readonly Subscription[]; index: RoutingIndex } | undefined;
  const routing = (): RoutingIndex => {
    const source = deps.subscriptions();
    if (indexed?.source !== source) indexed = { source, index: buildRoutingIndex(source) };
    return indexed.index;
  };

  const alertWorker = startWorker(
    {
      queue: QUEUES.alerts,
      schema: AlertJobSchema,
      concurrency: deps.concurrency?.alerts ?? 8,
      handle: async ({ alert }, { log: jobLog }) => {
        const outcome = await routeAlert(alert, {
          match: (a) => routing().match(a),
          isQueued: async (id) => (await connection.exists(stateKey(prefix, 'queued', id))) === 1,
          enqueue: async (job: DeliveryJob) => {
            await deliveriesQueue.add('deliver', job, {
              jobId: job.deliveryId,
              attempts: DELIVERY_ATTEMPTS,
              backoff: { type: 'custom' },
            });
          },
          markQueued: async (id) => {
            await connection.set(stateKey(prefix, 'queued', id), '1', 'EX', QUEUED_MARK_SECONDS);
          },
        });
        jobLog.info({ alertId: alert.id, storyId: alert.storyId, ...outcome }, 'alert routed');
        return outcome;
      },
    },
    { connection, prefix, log },
  );

  const deliveryWorker = startWorker(
    {
      queue: QUEUES.deliveries,
      schema: DeliveryJobSchema,
      concurrency: deps.concurrency?.deliveries ?? 32,
      handle: (job, { attempt }) =>
        deliver(job, attempt, {
          subscription: (id) => deps.subscriptions().find((s) => s.id === id),
          story: (storyId) => alerts.story(storyId),
          explain: (alert, subscription) => {
            const match = explainMatch(alert, subscription);
            return {
              matchedBy: [...(match?.matchedBy ?? [])],
              severity: match?.severity ?? alert.severity,
              watchEvidence: [...(match?.watchEvidence ?? [])],
            };
          },
          failureInfo: getAttemptInfo,
          sendWebhook: async ({ url, secrets, deliveryId, alerts: story, why }) =>
            sendWebhook({
              url,
              secrets,
              deliveryId,
              event: buildWebhookEvent(story, deliveryId, {
                why: why.matchedBy,
                severity: why.severity,
                type: 'alert.created',
              }),
              policy: deps.policy,
            }),
          sendEmail: async ({ to, deliveryId, alerts: story, subscription, why }) => {
            const token = signUnsubscribeToken({ subscriptionId: subscription.id, email: to.join(',') }, secret);
            const message = renderAlertEmail({
              alerts: story,
              subscription,
              severity: why.severity,
              matchedBy: why.matchedBy,
              watchEvidence: why.watchEvidence,
              unsubscribeUrl: `${publicUrl}/v1/unsubscribe?token=${token}`,
            });
            return sendEmail(mailer, { to, message, deliveryId });
          },
          record: (a) => deliveryLog.record(a),
          now: () => new Date(),
        }),
    },
    {
      connection,
      prefix,
      log,
      options: { settings: { backoffStrategy: deps.deliveryBackoff ?? deliveryBackoffStrategy } },
    },
  );

  return {
    close: async () => {
      await alertWorker.close();
      await deliveryWorker.close();
      await deliveriesQueue.close();
      mailer.close();
    },
  };
}
