import type { Alert, DeliveryAttempt, DeliveryJob, Evidence, Subscription } from '@regwatch/contracts';
import { PermanentError, RegwatchError } from '@regwatch/contracts';
import { channelKey } from './keys.js';

/** Why a subscription matched: shown in the email and sent as the webhook's `why`. */
export interface Explanation {
  matchedBy: string[];
  severity: Alert['severity'];
  watchEvidence: Evidence[];
}

/** The outcome of one send, whichever the channel. */
export interface SendResult {
  code?: number;
  latencyMs: number;
}

export interface DeliverDeps {
  /** Current subscription by id: secrets and addresses are read here, never from the job. */
  subscription: (id: string) => Subscription | undefined;
  /** Every stored alert of a story, oldest first: one notification lists every source. */
  story: (storyId: string) => Promise<Alert[]>;
  /** Why the subscription matched, and the severity it gets (watch terms can raise it). */
  explain: (alert: Alert, subscription: Subscription) => Explanation;
  /** The status/reply code and latency a failed send carries, when it knows them. */
  failureInfo: (err: unknown) => { code?: number; latencyMs?: number } | undefined;
  sendWebhook: (args: {
    url: string;
    secrets: string[];
    deliveryId: string;
    alerts: Alert[];
    why: Explanation;
  }) => Promise<SendResult>;
  sendEmail: (args: {
    to: string[];
    deliveryId: string;
    alerts: Alert[];
    subscription: Subscription;
    why: Explanation;
  }) => Promise<SendResult>;
  record: (attempt: DeliveryAttempt) => Promise<void>;
  now: () => Date;
}

/**
 * Makes one delivery attempt and records it, successful or not. Errors propagate with their
 * class (PermanentError → dead letter, RetryableError/RateLimitedError → retry on schedule).
 */
export async function deliver(job: DeliveryJob, attempt: number, deps: DeliverDeps): Promise<SendResult> {
  const started = deps.now();
  const subscription = deps.subscription(job.subscriptionId);
  if (!subscription)
    throw new PermanentError('SUBSCRIPTION_GONE', `subscription "${job.subscriptionId}" no longer exists`);
  const channel = subscription.channels.find((c) => channelKey(c) === job.channelKey);
  if (!channel)
    throw new PermanentError('CHANNEL_GONE', `subscription "${subscription.id}" no longer has this channel`);
  if (subscription.paused)
    throw new PermanentError('SUBSCRIPTION_PAUSED', `subscription "${subscription.id}" is paused`);
  const alerts = await deps.story(job.storyId);
  if (alerts.length === 0) throw new PermanentError('ALERT_EXPIRED', `no stored alert for story ${job.storyId}`);
  const why = deps.explain(alerts.find((a) => a.id === job.alertId) ?? alerts[0]!, subscription);
  const base = {
    deliveryId: job.deliveryId,
    alertId: job.alertId,
    subscriptionId: subscription.id,
    channel: channel.type,
    attempt,
    at: started.toISOString(),
  };
  try {
    const result =
      channel.type === 'webhook'
        ? await deps.sendWebhook({
            url: channel.url,
            secrets: Array.isArray(channel.secret) ? channel.secret : [channel.secret],
            deliveryId: job.deliveryId,
            alerts,
            why,
          })
        : await deps.sendEmail({ to: channel.to, deliveryId: job.deliveryId, alerts, subscription, why });
    await deps.record({
      ...base,
      ok: true,
      ...(result.code !== undefined ? { code: result.code } : {}),
      latencyMs: result.latencyMs,
    });
    return result;
  } catch (err) {
    const info = deps.failureInfo(err);
    await deps.record({
      ...base,
      ok: false,
      ...(info?.code !== undefined ? { code: info.code } : {}),
      latencyMs: info?.latencyMs ?? deps.now().getTime() - started.getTime(),
      error: err instanceof RegwatchError ? `${err.code}: ${err.message}` : ((err as Error).message ?? String(err)),
    });
    throw err;
  }
}
