import type { Alert, Channel, DeliveryAttempt, Evidence, Subscription } from '@regwatch/contracts';
import { PermanentError, RegwatchError } from '@regwatch/contracts';
import type { AttemptMeta } from '@regwatch/store';
import { buildDigestEvent, buildWebhookEvent, type WebhookEvent } from '../delivery/webhook.js';
import { renderAlertEmail } from '../render/alert-email.js';
import { renderChannelDisabledEmail } from '../render/channel-disabled-email.js';
import { renderDigestEmail } from '../render/digest-email.js';
import type { RenderedEmail, StoryMatch } from '../render/email-parts.js';
import type { NotifierDeliveryJob } from './jobs.js';
import { channelKey, deliveryIdFor, updateDeliveryIdFor } from './keys.js';

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

/** What one delivery attempt did. */
export interface DeliverOutcome {
  /** False when there was nothing to send (an empty digest, an update for an email channel). */
  sent: boolean;
  code?: number;
  latencyMs?: number;
  /** Alerts of the story the message carried. */
  sources?: number;
  /** An `alert.updated` queued because the story grew while this delivery was being sent. */
  updateQueued?: string;
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
  /** Whether the channel is disabled, and whether it has failures to forget after a success. */
  health: (subscriptionId: string, key: string) => Promise<{ disabled: boolean; failing: boolean }>;
  sendWebhook: (args: {
    url: string;
    secrets: string[];
    deliveryId: string;
    event: WebhookEvent;
  }) => Promise<SendResult>;
  sendEmail: (args: { to: string[]; deliveryId: string; message: RenderedEmail }) => Promise<SendResult>;
  /** The signed one-click unsubscribe URL for these addresses of this subscription. */
  unsubscribeUrl: (subscription: Subscription, to: readonly string[]) => string;
  record: (attempt: DeliveryAttempt, meta: AttemptMeta) => Promise<void>;
  /** A webhook send failed: count it toward disabling the endpoint (410 disables at once). */
  channelFailed: (args: {
    subscription: Subscription;
    key: string;
    url: string;
    err: unknown;
    at: Date;
  }) => Promise<void>;
  /** A send succeeded on a channel that had failures: forget them. */
  channelRecovered: (subscriptionId: string, key: string) => Promise<void>;
  /**
   * `alert.updated` support: recording a successful attempt together with reading the story's alert
   * count, and a way to queue the update. When set, a webhook delivery that finds the story grew
   * while it was being sent queues the update.
   */
  updates?: {
    /**
     * `record`, then the story's alert count read after the record is written (atomically: one
     * script), so a source the router saves meanwhile is seen either by the router (it reads the
     * record after saving) or by this count.
     */
    recordAndCount: (attempt: DeliveryAttempt, meta: AttemptMeta, storyId: string) => Promise<number>;
    enqueue: (job: NotifierDeliveryJob) => Promise<void>;
  };
  /** For the disabled-endpoint notice: the configured period, in hours. */
  disableAfterHours: number;
  now: () => Date;
}

/** Failures that say nothing about the endpoint (our own configuration): they do not count toward disabling it. */
const NOT_THE_ENDPOINT = new Set(['WEBHOOK_BAD_ID', 'WEBHOOK_NO_SECRET', 'WEBHOOK_BAD_SECRET']);

/** Whether a failed send counts against the endpoint's health. */
export function countsAgainstEndpoint(err: unknown): boolean {
  return !(err instanceof RegwatchError && NOT_THE_ENDPOINT.has(err.code));
}

/**
 * The first delivery of a story to one channel of one subscription. Its id, and so the BullMQ job
 * id and the `webhook-id`, depends only on (story, subscription, channel): queueing it twice is a no-op.
 */
export function alertJobFor(
  alert: Pick<Alert, 'id' | 'storyId'>,
  subscriptionId: string,
  channelKey: string,
): NotifierDeliveryJob {
  return {
    v: 1,
    kind: 'alert',
    deliveryId: deliveryIdFor(alert.storyId, subscriptionId, channelKey),
    alertId: alert.id,
    storyId: alert.storyId,
    subscriptionId,
    channelKey,
  };
}

/**
 * The `alert.updated` delivery of a story that has grown to `sources` alerts, for one channel.
 * `alertId` is the newest alert (the one that made it grow, when known).
 */
export function updateJobFor(
  base: { storyId: string; subscriptionId: string; channelKey: string; alertId: string },
  sources: number,
): NotifierDeliveryJob {
  return {
    v: 1,
    kind: 'update',
    deliveryId: updateDeliveryIdFor(base.storyId, base.subscriptionId, base.channelKey, sources),
    alertId: base.alertId,
    storyId: base.storyId,
    subscriptionId: base.subscriptionId,
    channelKey: base.channelKey,
    sources,
  };
}

/** The subscription and channel a job is for; PermanentError when either is gone or paused. */
export function resolveChannel(
  job: Pick<NotifierDeliveryJob, 'subscriptionId' | 'channelKey'>,
  subscriptionOf: (id: string) => Subscription | undefined,
): { subscription: Subscription; channel: Channel } {
  const subscription = subscriptionOf(job.subscriptionId);
  if (!subscription)
    throw new PermanentError('SUBSCRIPTION_GONE', `subscription "${job.subscriptionId}" no longer exists`);
  const channel = subscription.channels.find((c) => channelKey(c) === job.channelKey);
  if (!channel)
    throw new PermanentError('CHANNEL_GONE', `subscription "${subscription.id}" no longer has this channel`);
  if (subscription.paused)
    throw new PermanentError('SUBSCRIPTION_PAUSED', `subscription "${subscription.id}" is paused`);
  return { subscription, channel };
}

interface Content {
  event?: WebhookEvent;
  email?: RenderedEmail;
  storyIds: string[];
  sources?: number;
}

/**
 * Makes one delivery attempt and records it, successful or not. Errors propagate with their
 * class (PermanentError → dead letter, RetryableError/RateLimitedError → retry on schedule).
 * A disabled channel is not sent to: `ENDPOINT_DISABLED`, a PermanentError, so the delivery is
 * dead-lettered and can be replayed once the channel is enabled again.
 */
export async function deliver(job: NotifierDeliveryJob, attempt: number, deps: DeliverDeps): Promise<DeliverOutcome> {
  if (job.kind === 'notice') return deliverNotice(job, attempt, deps);
  const started = deps.now();
  const { subscription, channel } = resolveChannel(job, deps.subscription);
  if (job.kind === 'update' && channel.type === 'email') {
    // Updates go to webhooks only: a second mail per new source would be noise in an inbox.
    return { sent: false };
  }
  const [health, content] = await Promise.all([
    deps.health(subscription.id, job.channelKey),
    buildContent(job, subscription, channel, deps),
  ]);
  if (health.disabled) {
    throw new PermanentError(
      'ENDPOINT_DISABLED',
      `channel ${job.channelKey} of subscription "${subscription.id}" is disabled: enable it, then replay`,
    );
  }
  if (!content) return { sent: false };

  // What every attempt record of this delivery shares, failed or sent.
  const base = {
    deliveryId: job.deliveryId,
    alertId: job.alertId,
    subscriptionId: subscription.id,
    channel: channel.type,
    attempt,
    at: started.toISOString(),
  };
  // Undefined fields (`sources` of a digest, `code` below) are skipped by the log and by JSON.stringify.
  const meta: AttemptMeta = { kind: job.kind, storyIds: content.storyIds, sources: content.sources };
  let result: SendResult;
  try {
    result =
      channel.type === 'webhook'
        ? await deps.sendWebhook({
            url: channel.url,
            secrets: Array.isArray(channel.secret) ? channel.secret : [channel.secret],
            deliveryId: job.deliveryId,
            event: content.event!,
          })
        : await deps.sendEmail({ to: channel.to, deliveryId: job.deliveryId, message: content.email! });
  } catch (err) {
    const info = deps.failureInfo(err);
    const failed: DeliveryAttempt = {
      ...base,
      ok: false,
      code: info?.code,
      latencyMs: info?.latencyMs ?? deps.now().getTime() - started.getTime(),
      error: err instanceof RegwatchError ? `${err.code}: ${err.message}` : ((err as Error).message ?? String(err)),
    };
    await deps.record(failed, meta);
    // Email failures are the mail relay's more often than the team's: only webhook endpoints are disabled.
    if (channel.type === 'webhook' && countsAgainstEndpoint(err)) {
      await deps.channelFailed({ subscription, key: job.channelKey, url: channel.url, err, at: deps.now() });
    }
    throw err;
  }
  const attemptRecord: DeliveryAttempt = {
    ...base,
    ok: true,
    code: result.code,
    latencyMs: result.latencyMs,
  };
  const outcome: DeliverOutcome = {
    sent: true,
    code: result.code,
    latencyMs: result.latencyMs,
    sources: content.sources,
  };
  const watchGrowth = job.kind === 'alert' && channel.type === 'webhook' && deps.updates && content.sources;
  // Recorded first, then the story counted, in that order (one script does both): the router reads
  // the record after saving a new alert, this reads the story after writing the record, so a source
  // arriving during the send is seen by one of the two (and queued once: the update's id is deterministic).
  const recorded = watchGrowth
    ? deps.updates!.recordAndCount(attemptRecord, meta, job.storyId)
    : deps.record(attemptRecord, meta);
  if (health.failing) await Promise.all([recorded, deps.channelRecovered(subscription.id, job.channelKey)]);
  const size = await recorded;
  if (watchGrowth && (size as number) > content.sources!) {
    const update = updateJobFor(job, size as number);
    await deps.updates!.enqueue(update);
    outcome.updateQueued = update.deliveryId;
  }
  return outcome;
}

async function buildContent(
  job: NotifierDeliveryJob,
  subscription: Subscription,
  channel: Channel,
  deps: DeliverDeps,
): Promise<Content | undefined> {
  if (job.kind === 'digest') return buildDigest(job, subscription, channel, deps);
  const alerts = await deps.story(job.storyId);
  if (alerts.length === 0) throw new PermanentError('ALERT_EXPIRED', `no stored alert for story ${job.storyId}`);
  const why = deps.explain(alerts.find((a) => a.id === job.alertId) ?? alerts[0]!, subscription);
  if (channel.type === 'webhook') {
    const event = buildWebhookEvent(alerts, job.deliveryId, {
      why: why.matchedBy,
      severity: why.severity,
      type: job.kind === 'update' ? 'alert.updated' : 'alert.created',
    });
    return { event, storyIds: [job.storyId], sources: alerts.length };
  }
  const email = renderAlertEmail({
    alerts,
    subscription,
    severity: why.severity,
    matchedBy: why.matchedBy,
    watchEvidence: why.watchEvidence,
    unsubscribeUrl: deps.unsubscribeUrl(subscription, channel.to),
  });
  return { email, storyIds: [job.storyId], sources: alerts.length };
}

async function buildDigest(
  job: NotifierDeliveryJob,
  subscription: Subscription,
  channel: Channel,
  deps: DeliverDeps,
): Promise<Content | undefined> {
  const ids = job.storyIds ?? [];
  const window = job.window;
  if (!window) throw new PermanentError('DIGEST_NO_WINDOW', 'a digest delivery needs its window');
  const stories = (await Promise.all(ids.map((id) => deps.story(id)))).filter((alerts) => alerts.length > 0);
  // Stories whose alerts expired meanwhile are left out; a window with none left sends nothing.
  if (stories.length === 0) return undefined;
  const matches: StoryMatch[] = stories.map((alerts) => {
    const why = deps.explain(alerts[0]!, subscription);
    return { alerts, severity: why.severity, matchedBy: why.matchedBy, watchEvidence: why.watchEvidence };
  });
  const storyIds = stories.map((alerts) => alerts[0]!.storyId);
  const total = stories.length + (job.omitted ?? 0);
  if (channel.type === 'webhook') {
    const event = buildDigestEvent(
      matches.map((m) => ({ alerts: m.alerts, why: m.matchedBy, severity: m.severity })),
      job.deliveryId,
      { subscriptionId: subscription.id, window, total },
    );
    return { event, storyIds };
  }
  const email = renderDigestEmail({
    stories: matches,
    subscription,
    window,
    unsubscribeUrl: deps.unsubscribeUrl(subscription, channel.to),
  });
  return { email, storyIds };
}

/** Who is told about a subscription's own problems: its `contact`, else the addresses of its email channels. */
export function contactsOf(subscription: Subscription): string[] {
  if (subscription.contact && subscription.contact.length > 0) return [...subscription.contact];
  const seen = new Map<string, string>();
  for (const c of subscription.channels) {
    if (c.type !== 'email') continue;
    for (const to of c.to) if (!seen.has(to.toLowerCase())) seen.set(to.toLowerCase(), to);
  }
  return [...seen.values()];
}

/** Emails the "endpoint disabled" notice; a subscription with nobody to tell sends nothing. */
async function deliverNotice(job: NotifierDeliveryJob, attempt: number, deps: DeliverDeps): Promise<DeliverOutcome> {
  const subscription = deps.subscription(job.subscriptionId);
  if (!subscription || !job.notice) return { sent: false };
  const to = contactsOf(subscription);
  if (to.length === 0) return { sent: false };
  const started = deps.now();
  const message = renderChannelDisabledEmail({
    subscription,
    host: job.notice.host,
    reason: job.notice.reason,
    since: job.notice.since,
    disabledAt: job.notice.disabledAt,
    disableAfterHours: deps.disableAfterHours,
  });
  const base = {
    deliveryId: job.deliveryId,
    alertId: '',
    subscriptionId: subscription.id,
    channel: 'email' as const,
    attempt,
    at: started.toISOString(),
  };
  try {
    const result = await deps.sendEmail({ to, deliveryId: job.deliveryId, message });
    await deps.record(
      { ...base, ok: true, ...(result.code !== undefined ? { code: result.code } : {}), latencyMs: result.latencyMs },
      { kind: 'notice' },
    );
    return { sent: true, ...(result.code !== undefined ? { code: result.code } : {}), latencyMs: result.latencyMs };
  } catch (err) {
    const info = deps.failureInfo(err);
    await deps.record(
      {
        ...base,
        ok: false,
        ...(info?.code !== undefined ? { code: info.code } : {}),
        latencyMs: info?.latencyMs ?? deps.now().getTime() - started.getTime(),
        error: err instanceof RegwatchError ? `${err.code}: ${err.message}` : String(err),
      },
      { kind: 'notice' },
    );
    throw err;
  }
}
