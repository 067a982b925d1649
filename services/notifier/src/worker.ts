import { randomBytes } from 'node:crypto';
import {
  AlertJobSchema,
  formatIssues,
  isPermanent,
  QUEUES,
  RegwatchError,
  type Subscription,
} from '@regwatch/contracts';
import type { Logger } from '@regwatch/logger';
import type { AddressPolicy } from '@regwatch/outbound';
import {
  bullPrefix,
  createQueue,
  createShapeGate,
  duplicateRedis,
  JOB_SHAPES,
  startWorker,
  stateKey,
} from '@regwatch/queue';
import { AlertStore, DeadLetterStore, DeliveryLog } from '@regwatch/store';
import { DelayedError, type Job, type MinimalJob, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { getAttemptInfo } from './delivery/attempt-info.js';
import { createMailer, sendEmail } from './delivery/email.js';
import {
  DEFAULT_ENDPOINT_LIMITS,
  EndpointLimiter,
  type EndpointLimits,
  endpointOf,
} from './delivery/endpoint-limiter.js';
import { retryScheduleOf } from './delivery/retry.js';
import { signUnsubscribeToken } from './delivery/unsubscribe-token.js';
import { sendWebhook } from './delivery/webhook.js';
import { type CollectDigestOutcome, collectDigest } from './digest/collect-digest.js';
import { DigestBucket } from './digest/digest-bucket.js';
import { type DigestSyncResult, scheduledSlotOf, syncDigestSchedules } from './digest/schedule.js';
import { deliveryJobOptions, enableChannel, replayDeadLetter } from './notify/admin.js';
import { createAlertRouter } from './notify/alert-router.js';
import { DeliveryBatchJobSchema, ownJobEntry, rescueEntries } from './notify/batch.js';
import { ChannelHealthStore } from './notify/channel-health.js';
import { contactsOf, type DeliverDeps, deliver, type Explanation, resolveChannel } from './notify/deliver.js';
import { deliverBatch, withBatchHealth, withBatchStories } from './notify/deliver-batch.js';
import {
  DigestJobSchema,
  firstAttemptOf,
  JOB_NAMES,
  type NotifierDeliveryJob,
  NotifierDeliveryJobSchema,
} from './notify/jobs.js';
import { noticeDeliveryIdFor } from './notify/keys.js';
import { buildRoutingIndex, type RoutingIndex } from './routing/routing-index.js';

/** How long a batched delivery waits in its job for a slot at a busy endpoint before it leaves as a delayed job of its own. */
const BATCH_SLOT_WAIT_MS = 2_000;

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
  /** The delivery retry schedule's steps in ms (`REGWATCH_RETRY_SCHEDULE`); default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h. */
  retrySchedule?: readonly number[];
  /** Overrides the backoff computed from the schedule (tests). */
  deliveryBackoff?: (attemptsMade: number, type?: string, err?: Error) => number;
  concurrency?: { alerts?: number; deliveries?: number };
  /** Deadline of one webhook request. Default 10 s. */
  webhookTimeoutMs?: number;
  /** Per webhook endpoint (host:port), per notifier process. Default 4 at once, 20 per second. */
  endpointLimits?: Partial<EndpointLimits>;
  /** A webhook endpoint failing with no success for this long is disabled (`REGWATCH_DISABLE_AFTER_HOURS`). Default 72. */
  disableAfterHours?: number;
  /** Send `alert.updated` to webhook channels when a delivered story gains a source. Default true. */
  sendUpdates?: boolean;
  /** How often to look for subscription changes that move digest schedules. Default 30 s; 0 turns it off. */
  scheduleSyncMs?: number;
  /** Clock for routing times, digest windows and endpoint health (tests). */
  now?: () => Date;
}

/** A running notifier: its workers, and the operations the api needs. */
export interface Notifier {
  close(): Promise<void>;
  /** Brings the digest job schedulers in line with the subscriptions now (also done on start and on change). */
  syncDigestSchedules(): Promise<DigestSyncResult>;
  /** Runs the digest of one subscription for the window ending at `windowEnd`, as its scheduled tick would. */
  runDigest(subscriptionId: string, windowEnd?: Date): Promise<CollectDigestOutcome>;
  /** See {@link replayDeadLetter}. */
  replayDeadLetter(id: string): Promise<string | undefined>;
  /** See {@link enableChannel}. */
  enableChannel(subscriptionId: string, channelKey: string): Promise<boolean>;
  readonly limiter: EndpointLimiter;
}

async function unsubscribeKey(deps: NotifierDeps): Promise<string> {
  if (deps.unsubscribeSecret) return deps.unsubscribeSecret;
  const key = stateKey(deps.prefix, 'secret', 'unsubscribe');
  await deps.connection.set(key, randomBytes(32).toString('base64url'), 'NX');
  return (await deps.connection.get(key))!;
}

/**
 * Thin BullMQ wiring around `deliver` (one attempt at one channel, retried on the delivery
 * schedule) and `collectDigest` (a digest subscription's scheduled tick). Deliveries that fail for
 * good go to the dead-letter store; webhook endpoints over their limits wait in the delayed set.
 * Alerts are routed by the classifier ({@link createAlertRouter}); `alerts` jobs an older classifier
 * queued are routed here with the same router.
 */
export async function startNotifier(deps: NotifierDeps): Promise<Notifier> {
  const { connection, prefix, log } = deps;
  const now = deps.now ?? (() => new Date());
  // The deliveries producer gets its own connection, so BullMQ's scripts stay off `state`, whose
  // multi()/pipeline() would copy them.
  const producer = duplicateRedis(connection, {});
  producer.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const deliveriesQueue = createQueue(QUEUES.deliveries, { connection: producer, prefix });
  // regwatch's own state gets its own connection: BullMQ defines its ~50 scripts on the connection it
  // is given, and ioredis copies every defined script onto each multi()/pipeline() made from it,
  // which made the delivery log's one transaction per attempt the costliest call of a delivery.
  // ioredis auto-pipelining is off on purpose: it crashed a poller in the chaos suite
  // (`results[i] is not iterable`, redis/ioredis#1931) and breaks EVALSHA on a Redis Cluster (redis/ioredis#2109).
  const state = duplicateRedis(connection, {});
  state.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const alerts = new AlertStore(state, { prefix });
  const deliveryLog = new DeliveryLog(state, prefix);
  const deadLetters = new DeadLetterStore(state, prefix);
  const channelHealth = new ChannelHealthStore(state, prefix);
  const digests = new DigestBucket(state, prefix);
  const limiter = new EndpointLimiter({ ...DEFAULT_ENDPOINT_LIMITS, ...deps.endpointLimits });
  const mailer = createMailer(deps.email);
  const secret = await unsubscribeKey(deps);
  const publicUrl = deps.publicUrl.replace(/\/+$/, '');
  const disableAfterHours = deps.disableAfterHours ?? 72;
  const disableAfterMs = disableAfterHours * 3600_000;
  const retry = retryScheduleOf(deps.retrySchedule);
  const backoff = deps.deliveryBackoff ?? retry.backoffStrategy;
  const sendUpdates = deps.sendUpdates ?? true;

  // Subscriptions by id, rebuilt when the getter returns a new array (the router keeps the routing index).
  let indexed: { source: readonly Subscription[]; byId: Map<string, Subscription> } | undefined;
  const current = () => {
    const source = deps.subscriptions();
    if (indexed?.source !== source) indexed = { source, byId: new Map(source.map((s) => [s.id, s])) };
    return indexed;
  };
  const subscriptionOf = (id: string) => current().byId.get(id);
  // explainMatch compiles a one-subscription index per call; deliveries reuse it per subscription object.
  const explainers = new WeakMap<Subscription, RoutingIndex>();
  const explain = (alert: Parameters<DeliverDeps['explain']>[0], subscription: Subscription): Explanation => {
    let index = explainers.get(subscription);
    if (!index) {
      index = buildRoutingIndex([subscription]);
      explainers.set(subscription, index);
    }
    const match = index.match(alert, { includePaused: true })[0];
    return {
      matchedBy: [...(match?.matchedBy ?? [])],
      severity: match?.severity ?? alert.severity,
      watchEvidence: [...(match?.watchEvidence ?? [])],
    };
  };

  const enqueue = async (job: NotifierDeliveryJob) => {
    await deliveriesQueue.add(JOB_NAMES.deliver, job, deliveryJobOptions(job.deliveryId, retry.attempts));
  };
  // `alerts` jobs come from classifiers older than routing in the classifier (it now routes in the
  // job that made the alert): this worker drains them during an upgrade, with the same router.
  // Other notifier replicas may still be of a release before deliver-batch during an upgrade.
  const deliveryBatches = createShapeGate(state, prefix, 'notifier', JOB_SHAPES.deliveryBatches, {
    onChange: (open) =>
      log.info({ deliveryBatches: open }, `deliver-batch jobs: batching turned ${open ? 'on' : 'off'}`),
  });
  const router = createAlertRouter({
    state,
    prefix,
    deliveries: deliveriesQueue,
    subscriptions: () => current().source,
    attempts: retry.attempts,
    sendUpdates,
    now,
    batchDeliveries: deliveryBatches,
  });
  const alertWorker = startWorker(
    {
      queue: QUEUES.alerts,
      schema: AlertJobSchema,
      concurrency: deps.concurrency?.alerts ?? 8,
      handle: async ({ alert }, { log: jobLog }) => {
        const outcome = await router.route(alert);
        jobLog.info({ alertId: alert.id, storyId: alert.storyId, ...outcome }, 'alert routed');
        return outcome;
      },
    },
    { connection, prefix, log },
  );

  const deliverDeps: DeliverDeps = {
    subscription: subscriptionOf,
    story: (storyId) => alerts.story(storyId),
    explain,
    failureInfo: getAttemptInfo,
    health: async (subscriptionId, key) => {
      const h = await channelHealth.get(subscriptionId, key);
      return { disabled: h.disabled, failing: h.firstFailureAt !== undefined };
    },
    sendWebhook: async ({ url, secrets, deliveryId, event }) => {
      const r = await sendWebhook({
        url,
        secrets,
        deliveryId,
        event,
        policy: deps.policy,
        ...(deps.webhookTimeoutMs !== undefined ? { timeoutMs: deps.webhookTimeoutMs } : {}),
      });
      return { code: r.status, latencyMs: r.latencyMs };
    },
    sendEmail: ({ to, deliveryId, message }) => sendEmail(mailer, { to, message, deliveryId }),
    unsubscribeUrl: (subscription, to) =>
      `${publicUrl}/v1/unsubscribe?token=${signUnsubscribeToken({ subscriptionId: subscription.id, email: to.join(',') }, secret)}`,
    record: (attempt, meta) => deliveryLog.record(attempt, meta),
    channelFailed: async ({ subscription, key, url, err, at }) => {
      const code = err instanceof RegwatchError ? err.code : 'UNKNOWN';
      const { health, newlyDisabled } = await channelHealth.recordFailure(subscription.id, key, {
        at,
        error: `${code}: ${(err as Error).message ?? String(err)}`,
        gone: code === 'WEBHOOK_GONE',
        disableAfterMs,
      });
      if (!newlyDisabled) return;
      const host = (() => {
        try {
          return new URL(url).host;
        } catch {
          return 'the endpoint';
        }
      })();
      log.warn(
        { subscriptionId: subscription.id, channelKey: key, reason: health.disabledReason },
        'webhook endpoint disabled',
      );
      if (contactsOf(subscription).length === 0) {
        log.warn(
          { subscriptionId: subscription.id, channelKey: key },
          'nobody to tell that the endpoint was disabled: the subscription has no contact and no email channel',
        );
        return;
      }
      const disabledAt = health.disabledAt ?? at.toISOString();
      await enqueue({
        v: 1,
        kind: 'notice',
        deliveryId: noticeDeliveryIdFor(subscription.id, key, disabledAt),
        alertId: '',
        storyId: '',
        subscriptionId: subscription.id,
        channelKey: key,
        notice: {
          reason: health.disabledReason ?? code,
          since: health.firstFailureAt ?? disabledAt,
          disabledAt,
          host,
        },
      });
    },
    channelRecovered: (subscriptionId, key) => channelHealth.recordSuccess(subscriptionId, key),
    ...(sendUpdates
      ? {
          updates: {
            recordAndCount: (attempt, meta, storyId) =>
              deliveryLog.recordAndCount(attempt, meta, alerts.storySetKey(storyId)),
            enqueue,
          },
        }
      : {}),
    disableAfterHours,
    now,
  };

  const deadLetter = async (job: NotifierDeliveryJob, err: unknown, attempts: number) => {
    const reason = err instanceof RegwatchError ? err.code : 'UNKNOWN';
    const message = (err as Error)?.message ?? String(err);
    const failedAt = now().toISOString();
    let channel: 'webhook' | 'email' | undefined;
    try {
      channel = job.kind === 'notice' ? 'email' : resolveChannel(job, subscriptionOf).channel.type;
    } catch {
      channel = undefined;
    }
    try {
      await Promise.all([
        deadLetters.add({
          id: job.deliveryId,
          deliveryId: job.deliveryId,
          kind: job.kind,
          alertId: job.alertId,
          storyId: job.storyId,
          subscriptionId: job.subscriptionId,
          channelKey: job.channelKey,
          ...(channel ? { channel } : {}),
          reason,
          message,
          failedAt,
          attempts,
          replays: job.replay ?? 0,
          job,
        }),
        deliveryLog.markDead(job.deliveryId, reason, failedAt, {
          attempts,
          subscriptionId: job.subscriptionId,
          kind: job.kind,
          ...(channel ? { channel } : {}),
        }),
      ]);
      log.warn(
        { deliveryId: job.deliveryId, subscriptionId: job.subscriptionId, kind: job.kind, reason, attempts },
        'delivery dead-lettered',
      );
    } catch (writeErr) {
      // The job stays in BullMQ's failed set either way; say loudly that the letter is missing.
      log.error(
        { deliveryId: job.deliveryId, reason, err: (writeErr as Error).message },
        'could not store dead letter',
      );
    }
  };

  const runDigest = (subscriptionId: string, windowEndMs: number) =>
    collectDigest(subscriptionId, windowEndMs, {
      subscription: subscriptionOf,
      window: (id, end, max) => digests.window(id, end, max),
      enqueue,
      commit: (id, end) => digests.commit(id, end),
    });

  /** The webhook endpoint a job will call, when it is one and can be resolved (else `deliver` says why). */
  const endpointFor = (job: NotifierDeliveryJob): string | undefined => {
    if (job.kind === 'notice') return undefined;
    try {
      const { channel } = resolveChannel(job, subscriptionOf);
      return channel.type === 'webhook' ? endpointOf(channel.url) : undefined;
    } catch {
      return undefined;
    }
  };

  /** Hands each delivery of a batch that failed for good, and not delivered or dead-lettered, to a job of its own. */
  const rescueBatch = async (job: Job) => {
    const parsed = DeliveryBatchJobSchema.safeParse(job.data);
    if (!parsed.success) return; // an invalid payload carried nothing deliverable
    try {
      const batch = parsed.data.deliveries;
      const states = await deliveryLog.states(batch.map((d) => d.deliveryId));
      const rescued = rescueEntries(batch, states, retry.attempts);
      if (rescued.length > 0) await deliveriesQueue.addBulk(rescued);
      log.warn(
        { jobId: job.id, rescued: rescued.length },
        'delivery batch failed for good: its deliveries go on as jobs of their own',
      );
    } catch (err) {
      log.error({ jobId: job.id, err: (err as Error).message }, 'could not rescue the deliveries of a failed batch');
    }
  };

  /** A job's payload by its schema; a bad one fails the job for good, naming the field, and is logged. */
  const payloadOf = <S extends z.ZodType>(schema: S, job: Job): z.infer<S> => {
    const parsed = schema.safeParse(job.data);
    if (parsed.success) return parsed.data;
    const why = formatIssues(parsed.error, 'data').join('; ');
    log.error({ queue: QUEUES.deliveries, jobId: job.id, why }, 'invalid job payload');
    throw new UnrecoverableError(`invalid ${QUEUES.deliveries} payload: ${why}`);
  };

  /** A `deliver-batch` job: first attempts of several deliveries routed together (see deliver-batch.ts). */
  const processBatch = async (job: Job): Promise<unknown> => {
    const deliveries = payloadOf(DeliveryBatchJobSchema, job).deliveries;
    // Each channel's health is read once for the batch, and the deliveries' stories in one script call.
    const batchDeps = withBatchStories(
      withBatchHealth(deliverDeps),
      deliveries.map((d) => d.storyId),
      (ids) => alerts.stories(ids),
    );
    const outcome = await deliverBatch(deliveries, {
      states: (ids) => deliveryLog.states(ids),
      isRetry: job.attemptsMade > 0 || (job.stalledCounter ?? 0) > 0,
      hasOwnJob: async (id) => (await deliveriesQueue.getJob(id)) !== undefined,
      endpointOf: endpointFor,
      acquire: (endpoint, options) => limiter.tryAcquire(endpoint, options),
      send: (d, attempt) => deliver(d, attempt, batchDeps),
      latencyOf: (err) => getAttemptInfo(err)?.latencyMs ?? null,
      handoff: async (d, { delayMs, firstAttempt }) => {
        const entry = ownJobEntry(d, firstAttempt, retry.attempts);
        await deliveriesQueue.add(entry.name, entry.data, { ...entry.opts, delay: Math.max(0, Math.round(delayMs)) });
      },
      deadLetter: (d, err, attempt) => deadLetter(d, err, attempt),
      retryDelayMs: (err) => backoff(1, 'custom', err as Error),
      attempts: retry.attempts,
      concurrency: limiter.limits.concurrency,
      maxWaitMs: BATCH_SLOT_WAIT_MS,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    if (outcome.retrying + outcome.deferred + outcome.dead > 0) {
      log.info({ jobId: job.id, ...outcome }, 'delivery batch: some deliveries left the batch');
    }
    return outcome;
  };

  const processDelivery = async (job: Job, token?: string): Promise<unknown> => {
    if (job.name === JOB_NAMES.digest) {
      const parsed = DigestJobSchema.safeParse(job.data);
      if (!parsed.success)
        throw new UnrecoverableError(`invalid digest payload: ${formatIssues(parsed.error, 'data').join('; ')}`);
      const end = parsed.data.windowEnd ?? scheduledSlotOf(job) ?? now().getTime();
      const outcome = await runDigest(parsed.data.subscriptionId, end);
      log.info(
        { subscriptionId: parsed.data.subscriptionId, windowEnd: new Date(end).toISOString(), ...outcome },
        'digest collected',
      );
      return outcome;
    }
    if (job.name === JOB_NAMES.deliverBatch) return processBatch(job);
    const data = payloadOf(NotifierDeliveryJobSchema, job);
    // A delivery that left a batch after its first attempt starts at attempt 2.
    const attempt = job.attemptsMade + (data.firstAttempt ?? 1);
    const endpoint = endpointFor(data);
    const slot = endpoint ? limiter.tryAcquire(endpoint) : undefined;
    if (slot && !slot.ok) {
      // Over the endpoint's limit: back to the delayed set (not an attempt), freeing this worker slot.
      await job.moveToDelayed(Date.now() + slot.retryInMs, token);
      throw new DelayedError();
    }
    // The endpoint's own request time for the limiter (null: no request made); the lease also spans Redis work.
    let requestMs: number | null = null;
    try {
      const outcome = await deliver(data, attempt, deliverDeps);
      requestMs = outcome.latencyMs ?? null;
      return outcome;
    } catch (err) {
      requestMs = getAttemptInfo(err)?.latencyMs ?? null;
      const isFinal = isPermanent(err) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (isFinal) await deadLetter(data, err, attempt);
      if (isPermanent(err)) throw new UnrecoverableError(`${err.code}: ${err.message}`);
      throw err;
    } finally {
      if (slot?.ok) slot.lease.release(requestMs);
    }
  };

  const deliveryWorker = new Worker(QUEUES.deliveries, processDelivery, {
    connection,
    prefix: bullPrefix(prefix),
    concurrency: deps.concurrency?.deliveries ?? 32,
    settings: {
      // A job that left a batch counts the batch's attempt: its first failure here is the schedule's second step.
      backoffStrategy: (attemptsMade: number, type?: string, err?: Error, job?: MinimalJob) =>
        backoff(attemptsMade + firstAttemptOf(job) - 1, type, err),
    },
  });
  deliveryWorker.on('failed', (job, err) => {
    log.warn({ queue: QUEUES.deliveries, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'job failed');
    // A job that stalled too often is failed by BullMQ without reaching the processor's catch.
    const stalled = /stalled more than allowable limit/.test(err.message);
    if (job && job.name === JOB_NAMES.deliver && stalled) {
      const parsed = NotifierDeliveryJobSchema.safeParse(job.data);
      if (parsed.success) {
        const attempts = job.attemptsMade + firstAttemptOf(job) - 1;
        void deadLetter(parsed.data, new RegwatchError('STALLED', err.message), attempts);
      }
    }
    // A batch that failed for good (our own trouble every time, or stalled too often) must not take
    // its deliveries with it: each one not yet delivered becomes a `deliver` job of its own.
    if (job && job.name === JOB_NAMES.deliverBatch && (stalled || job.attemptsMade >= (job.opts.attempts ?? 1))) {
      void rescueBatch(job);
    }
  });
  deliveryWorker.on('error', (err) => log.error({ queue: QUEUES.deliveries, err: err.message }, 'worker error'));

  const syncSchedules = async () => {
    const result = await syncDigestSchedules(deliveriesQueue, current().source);
    for (const f of result.failed) log.error(f, 'could not schedule digest');
    if (result.upserted + result.removed > 0)
      log.info({ ...result, failed: result.failed.length }, 'digest schedules synced');
    return result;
  };
  let syncedFor: readonly Subscription[] | undefined = current().source;
  await syncSchedules();
  const syncMs = deps.scheduleSyncMs ?? 30_000;
  let syncing = false;
  const timer =
    syncMs > 0
      ? setInterval(() => {
          const source = current().source;
          if (source === syncedFor || syncing) return;
          syncing = true;
          syncSchedules().then(
            () => {
              syncedFor = source;
              syncing = false;
            },
            (err: unknown) => {
              syncing = false;
              log.error({ err: (err as Error).message }, 'digest schedule sync failed');
            },
          );
        }, syncMs)
      : undefined;
  timer?.unref();

  return {
    limiter,
    syncDigestSchedules: async () => {
      const source = current().source;
      const result = await syncSchedules();
      syncedFor = source;
      return result;
    },
    runDigest: (subscriptionId, windowEnd) => runDigest(subscriptionId, (windowEnd ?? now()).getTime()),
    replayDeadLetter: (id) =>
      replayDeadLetter({ connection: state, prefix, deliveries: deliveriesQueue, attempts: retry.attempts }, id),
    enableChannel: (subscriptionId, key) => enableChannel({ connection: state, prefix }, subscriptionId, key),
    close: async () => {
      if (timer) clearInterval(timer);
      deliveryBatches.close();
      await alertWorker.close();
      await deliveryWorker.close();
      await deliveriesQueue.close();
      mailer.close();
      await Promise.all([state.quit(), producer.quit()]);
    },
  };
}
