import { QUEUES } from '@regwatch/contracts';
import { createQueue } from '@regwatch/queue';
import { DeadLetterStore, DeliveryLog } from '@regwatch/store';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { DELIVERY_ATTEMPTS } from '../delivery/retry.js';
import { ChannelHealthStore } from './channel-health.js';
import { JOB_NAMES, NotifierDeliveryJobSchema } from './jobs.js';

/** What the api (or a CLI) needs to act on the notifier's state. */
export interface NotifierAdminDeps {
  connection: Redis;
  prefix: string;
  /** The deliveries queue, when the caller already has one open; otherwise one is opened and closed. */
  deliveries?: Queue;
  /** Attempts of a replayed delivery job (the configured retry schedule's); default the built-in schedule's. */
  attempts?: number;
}

/**
 * BullMQ options of every delivery job: the delivery retry schedule's attempts, the worker's custom backoff.
 * @param attempts `retryScheduleOf(REGWATCH_RETRY_SCHEDULE).attempts` where the schedule is configured; default the built-in schedule's.
 */
export function deliveryJobOptions(jobId: string, attempts: number = DELIVERY_ATTEMPTS) {
  return { jobId, attempts, backoff: { type: 'custom' } } as const;
}

/**
 * Queues a dead letter's delivery again and removes the letter. The job keeps its delivery id, so
 * the webhook carries the same `webhook-id` (receivers that saw it drop it) and the email the same
 * Message-ID; the BullMQ job id gets `-r<n>` (n = replays so far + 1), since the failed job may still
 * hold the original id. Replaying twice in a row queues it once. A letter of a disabled channel
 * fails again until the channel is enabled ({@link enableChannel}).
 * @returns the new job id, or undefined when there is no such dead letter.
 */
export async function replayDeadLetter(deps: NotifierAdminDeps, id: string): Promise<string | undefined> {
  const letters = new DeadLetterStore(deps.connection, deps.prefix);
  const letter = await letters.get(id);
  if (!letter) return undefined;
  const replay = letter.replays + 1;
  const job = NotifierDeliveryJobSchema.parse({ ...letter.job, replay });
  const jobId = `${job.deliveryId}-r${replay}`;
  const queue = deps.deliveries ?? createQueue(QUEUES.deliveries, { connection: deps.connection, prefix: deps.prefix });
  try {
    await queue.add(JOB_NAMES.deliver, job, deliveryJobOptions(jobId, deps.attempts));
  } finally {
    if (!deps.deliveries) await queue.close();
  }
  await letters.remove(id);
  return jobId;
}

/**
 * Enables a disabled channel (after the team fixed its endpoint) and forgets its failures.
 * @returns whether it was disabled.
 */
export async function enableChannel(
  deps: Pick<NotifierAdminDeps, 'connection' | 'prefix'>,
  subscriptionId: string,
  channelKey: string,
): Promise<boolean> {
  return new ChannelHealthStore(deps.connection, deps.prefix).enable(subscriptionId, channelKey);
}

/** The stores the api reads: dead letters, the delivery log and channel health. */
export function notifierStores(deps: Pick<NotifierAdminDeps, 'connection' | 'prefix'>) {
  return {
    deadLetters: new DeadLetterStore(deps.connection, deps.prefix),
    deliveryLog: new DeliveryLog(deps.connection, deps.prefix),
    channelHealth: new ChannelHealthStore(deps.connection, deps.prefix),
  };
}
