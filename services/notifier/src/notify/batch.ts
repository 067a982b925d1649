import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DELIVERY_ATTEMPTS } from '../delivery/retry.js';
import { deliveryJobOptions } from './admin.js';
import { JOB_NAMES, type NotifierDeliveryJob, NotifierDeliveryJobSchema } from './jobs.js';

/** Most deliveries in one `deliver-batch` job (a batch of items is at most 25 alerts). */
export const MAX_DELIVERIES_PER_BATCH = 50;

/**
 * Several first deliveries routed together (from one batch of items), to any channels (job name
 * `deliver-batch`). Each is still its own message — its own `webhook-id` and signature, or its own
 * email — sent by the notifier in one job instead of one job each; each endpoint gets lanes of its
 * own in the job, so a slow receiver delays only its own deliveries. A delivery whose first attempt
 * fails leaves the batch as a `deliver` job of its own, for the rest of the retry schedule.
 * (Batches of releases before this held one channel's deliveries: a subset, processed the same.)
 */
export const DeliveryBatchJobSchema = z.object({
  v: z.literal(1),
  deliveries: z.array(NotifierDeliveryJobSchema).min(1).max(MAX_DELIVERIES_PER_BATCH),
});
export type DeliveryBatchJob = z.infer<typeof DeliveryBatchJobSchema>;

/**
 * BullMQ options of a batch job. Its own retries are for the notifier's trouble (Redis gone while it
 * records), not an endpoint's: those leave the batch as single jobs. A retried batch skips the
 * deliveries that already went out.
 */
export function batchJobOptions(jobId: string) {
  return { jobId, attempts: 8, backoff: { type: 'exponential', delay: 1_000 } } as const;
}

/** The job id of a batch: `batch-` and a digest of its delivery ids, so queueing it twice is a no-op. */
export function batchJobId(deliveries: readonly NotifierDeliveryJob[]): string {
  const digest = createHash('sha256');
  for (const d of deliveries) digest.update(d.deliveryId).update('\n');
  return `batch-${digest.digest('hex').slice(0, 32)}`;
}

export interface DeliveryEntry {
  name: string;
  data: NotifierDeliveryJob | DeliveryBatchJob;
  opts: ReturnType<typeof deliveryJobOptions> | ReturnType<typeof batchJobOptions>;
}

/**
 * The BullMQ jobs for deliveries queued together: first deliveries (`alert`) share `deliver-batch`
 * jobs of at most {@link MAX_DELIVERIES_PER_BATCH}, whatever their channels (a job's cost in Redis
 * and in the notifier is the same for one delivery or fifty); a lone one, and every other kind, gets
 * a `deliver` job of its own, as before batching.
 */
export function deliveryEntries(
  jobs: readonly NotifierDeliveryJob[],
  attempts: number = DELIVERY_ATTEMPTS,
  options: { batch?: boolean } = {},
): DeliveryEntry[] {
  const firsts: NotifierDeliveryJob[] = [];
  const entries: DeliveryEntry[] = [];
  const batch = options.batch ?? true;
  for (const job of jobs) {
    if (job.kind !== 'alert' || !batch) {
      entries.push({ name: JOB_NAMES.deliver, data: job, opts: deliveryJobOptions(job.deliveryId, attempts) });
    } else {
      firsts.push(job);
    }
  }
  for (let i = 0; i < firsts.length; i += MAX_DELIVERIES_PER_BATCH) {
    const chunk = firsts.slice(i, i + MAX_DELIVERIES_PER_BATCH);
    if (chunk.length === 1) {
      const job = chunk[0]!;
      entries.push({ name: JOB_NAMES.deliver, data: job, opts: deliveryJobOptions(job.deliveryId, attempts) });
    } else {
      const id = batchJobId(chunk);
      entries.push({ name: JOB_NAMES.deliverBatch, data: { v: 1, deliveries: chunk }, opts: batchJobOptions(id) });
    }
  }
  return entries;
}

/**
 * The `deliver` jobs that take over a batch that failed for good: one per delivery neither
 * delivered nor dead-lettered, starting at attempt 2 when its first attempt was made (`retrying`),
 * else at 1. Their job ids are the delivery ids, so one already handed off is not queued twice.
 */
export function rescueEntries(
  batch: readonly NotifierDeliveryJob[],
  states: ReadonlyArray<'delivered' | 'retrying' | 'dead' | undefined>,
  attempts: number = DELIVERY_ATTEMPTS,
): DeliveryEntry[] {
  return batch.flatMap((d, i) => {
    const state = states[i];
    if (state === 'delivered' || state === 'dead') return [];
    return [ownJobEntry(d, state === 'retrying' ? 2 : 1, attempts)];
  });
}

/**
 * A delivery leaving its batch as a `deliver` job of its own (job id: the delivery id), whose
 * first attempt is attempt `firstAttempt` of the schedule: it gets the schedule's remaining attempts.
 */
export function ownJobEntry(
  delivery: NotifierDeliveryJob,
  firstAttempt: number,
  attempts: number = DELIVERY_ATTEMPTS,
): DeliveryEntry & { data: NotifierDeliveryJob } {
  const data: NotifierDeliveryJob = firstAttempt > 1 ? { ...delivery, firstAttempt } : delivery;
  return {
    name: JOB_NAMES.deliver,
    data,
    opts: deliveryJobOptions(delivery.deliveryId, Math.max(1, attempts - firstAttempt + 1)),
  };
}
