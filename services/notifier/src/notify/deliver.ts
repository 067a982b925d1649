import type { Alert, DeliveryAttempt, DeliveryJob, Subscription } from '@regwatch/contracts';
import { PermanentError, RegwatchError } from '@regwatch/contracts';
import { channelKey } from './keys.js';

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
  explain: (alert: Alert, subscription: Subscription) => { matchedBy: string[]; severity: Alert['severity'] };
  sendWebhook: (args: {
    url: string;
    secrets: string[];
    deliveryId: string;
    alerts: Alert[];
    matchedBy: string[];
  }) => Promise<SendResult>;
  sendEmail: (args: {
    to: string[];
    deliveryId: string;
    alerts: Alert[];
    subscription: Subscription;
    matchedBy: string[];
    severity: Alert['severity'];
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
  const lead = alerts.find((a) => a.id === job.alertId) ?? alerts[0]!;
  const { matchedBy, severity } = deps.explain(lead, subscription);
  const base = {
    deliveryId: job.deliveryId,
    alertId: job.alertId,
    subscriptionId: subscription.id,
    channel: channel.type,
    attempt,
  };
  try {
    const result =
      channel.type === 'webhook'
        ? await deps.sendWebhook({
            url: channel.url,
            secrets: Array.isArray(channel.secret) ? channel.secret : [channel.secret],
            deliveryId: job.deliveryId,
            alerts: [lead, ...alerts.filter((a) => a !== lead)],
            matchedBy,
          })
        : await deps.sendEmail({
            to: channel.to,
            deliveryId: job.deliveryId,
            alerts: [lead, ...alerts.filter((a) => a !== lead)],
            subscription,
            matchedBy,
            severity,
          });
    await deps.record({
      ...base,
      at: started.toISOString(),
      ok: true,
      ...(result.code !== undefined ? { code: result.code } : {}),
      latencyMs: result.latencyMs,
    });
    return result;
  } catch (err) {
    const e = err as { code?: string; status?: number; responseCode?: number; message?: string };
    const code =
      typeof e.status === 'number' ? e.status : typeof e.responseCode === 'number' ? e.responseCode : undefined;
    await deps.record({
      ...base,
      at: started.toISOString(),
      ok: false,
      ...(code !== undefined ? { code } : {}),
      latencyMs: deps.now().getTime() - started.getTime(),
      error: err instanceof RegwatchError ? `${err.code}: ${err.message}` : (e.message ?? String(err)),
    });
    throw err;
  }
}
