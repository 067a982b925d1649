import { formatIssues, isPermanent, type OpsEventJob, OpsEventJobSchema, QUEUES } from '@regwatch/contracts';
import type { Logger } from '@regwatch/logger';
import type { AddressPolicy } from '@regwatch/outbound';
import { bullPrefix, createQueue, duplicateRedis } from '@regwatch/queue';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { createMailer, type MailerOptions, sendEmail } from '../delivery/email.js';
import { retryScheduleOf } from '../delivery/retry.js';
import { sendWebhook } from '../delivery/webhook.js';
import { type OpsChannels, opsChannelNames } from './ops-channel.js';
import { sendOpsNotice } from './send-ops-notice.js';

/** Job names on the ops queue: `event` from the poller, one `send` per configured channel from here. */
export const OPS_JOB_NAMES = { event: 'event', send: 'send' } as const;

export const OpsSendJobSchema = z.object({
  v: z.literal(1),
  channel: z.enum(['email', 'webhook']),
  event: OpsEventJobSchema,
});
export type OpsSendJob = z.infer<typeof OpsSendJobSchema>;

export interface OpsWorkerDeps {
  connection: Redis;
  prefix: string;
  log: Logger;
  policy: AddressPolicy;
  channels: OpsChannels;
  email: MailerOptions;
  /** Waits between attempts of a notice (REGWATCH_RETRY_SCHEDULE); default the delivery schedule. */
  retrySchedule?: readonly number[];
  /** Deadline of one webhook request. Default 10 s. */
  webhookTimeoutMs?: number;
}

/**
 * Thin BullMQ wiring for source alarms: an `event` job (an incident opened or resolved, queued by
 * the poller) becomes one `send` job per configured ops channel, each retried on its own on the
 * delivery schedule, so a failing webhook never re-sends the email. Job ids derive from the
 * event's, so an event processed twice queues each notice once.
 */
export function startOpsWorker(deps: OpsWorkerDeps): { close(): Promise<void> } {
  const { log } = deps;
  const schedule = retryScheduleOf(deps.retrySchedule);
  const producer = duplicateRedis(deps.connection, {});
  producer.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const queue = createQueue(QUEUES.ops, { connection: producer, prefix: deps.prefix });
  const mailer = createMailer({ maxConnections: 1, ...deps.email });
  const names = opsChannelNames(deps.channels);
  if (names.length === 0) log.info('no ops channel configured: source incidents show in feed health only');

  const parse = <S extends z.ZodType>(schema: S, job: Job): z.infer<S> => {
    const parsed = schema.safeParse(job.data);
    if (!parsed.success) {
      const why = formatIssues(parsed.error, 'data').join('; ');
      log.error({ queue: QUEUES.ops, jobId: job.id, why }, 'invalid job payload');
      throw new UnrecoverableError(`invalid ${QUEUES.ops} payload: ${why}`);
    }
    return parsed.data;
  };

  const fanOut = async (job: Job, event: OpsEventJob) => {
    const { incident } = event;
    if (names.length === 0) {
      log.warn(
        { feedId: incident.feedId, kind: incident.kind, transition: event.transition },
        'source incident: no ops channel to tell',
      );
      return { queued: 0 };
    }
    await queue.addBulk(
      names.map((channel) => ({
        name: OPS_JOB_NAMES.send,
        data: { v: 1, channel, event } satisfies OpsSendJob,
        opts: { jobId: `${job.id}-${channel}`, attempts: schedule.attempts, backoff: { type: 'custom' } },
      })),
    );
    return { queued: names.length };
  };

  const processor = async (job: Job) => {
    if (job.name !== OPS_JOB_NAMES.send) return fanOut(job, parse(OpsEventJobSchema, job));
    const { channel, event } = parse(OpsSendJobSchema, job);
    try {
      const sent = await sendOpsNotice(event, channel, {
        channels: deps.channels,
        sendEmail: (input) => sendEmail(mailer, input),
        sendWebhook: (input) =>
          sendWebhook({
            ...input,
            policy: deps.policy,
            ...(deps.webhookTimeoutMs !== undefined ? { timeoutMs: deps.webhookTimeoutMs } : {}),
          }),
      });
      log.info({ ...sent, feedId: event.incident.feedId, kind: event.incident.kind }, 'ops notice sent');
      return sent;
    } catch (err) {
      if (isPermanent(err)) throw new UnrecoverableError(`${err.code}: ${err.message}`);
      throw err;
    }
  };

  const worker = new Worker(QUEUES.ops, processor, {
    connection: deps.connection,
    prefix: bullPrefix(deps.prefix),
    concurrency: 4,
    settings: { backoffStrategy: schedule.backoffStrategy },
  });
  worker.on('failed', (job, err) => {
    const isFinal = job && (err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1));
    log[isFinal ? 'error' : 'warn'](
      { queue: QUEUES.ops, jobId: job?.id, attempt: job?.attemptsMade, err: err.message },
      isFinal ? 'ops notice failed for good' : 'ops notice failed; will retry',
    );
  });
  worker.on('error', (err) => log.error({ queue: QUEUES.ops, err: err.message }, 'worker error'));

  return {
    close: async () => {
      await worker.close();
      await queue.close();
      mailer.close();
      await producer.quit();
    },
  };
}
