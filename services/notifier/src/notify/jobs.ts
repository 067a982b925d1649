import { DeliveryJobSchema } from '@regwatch/contracts';
import { z } from 'zod';

/**
 * What a delivery job does:
 * - `alert`: the first notification of a story (`alert.created`, or the alert email);
 * - `update`: a later source of a story already delivered (`alert.updated`; webhooks only);
 * - `digest`: one message listing a digest window's stories;
 * - `notice`: tells a subscription's contacts that one of its endpoints was disabled.
 */
export const DeliveryKindSchema = z.enum(['alert', 'update', 'digest', 'notice']);
export type DeliveryKind = z.infer<typeof DeliveryKindSchema>;

/**
 * The notifier's delivery job: the contracts' `DeliveryJob` (ids only) plus what the other kinds
 * need. Jobs queued before kinds existed parse as `alert`. Digest and notice jobs have no single
 * alert or story: their `alertId`/`storyId` are empty.
 */
export const NotifierDeliveryJobSchema = DeliveryJobSchema.extend({
  kind: DeliveryKindSchema.default('alert'),
  /** Digest: the stories of the window, oldest first. */
  storyIds: z.array(z.string()).max(1_000).optional(),
  /** Digest: the window, ISO 8601. */
  window: z.object({ from: z.string(), to: z.string() }).optional(),
  /** Digest: stories in the window beyond `storyIds` (not listed, only counted). */
  omitted: z.number().int().min(0).optional(),
  /** Update: alerts of the story when the update was queued (part of its delivery id). */
  sources: z.number().int().min(1).optional(),
  /** Notice: why the endpoint was disabled, and when. */
  notice: z.object({ reason: z.string(), since: z.string(), disabledAt: z.string(), host: z.string() }).optional(),
  /** Replays of a dead letter so far (its job id gets `-r<n>`). */
  replay: z.number().int().min(1).optional(),
  /**
   * The attempt number of this job's first attempt: 2 for a delivery whose first attempt was made
   * in a `deliver-batch` job and failed (the job has the rest of the schedule's attempts).
   */
  firstAttempt: z.number().int().min(1).optional(),
});
export type NotifierDeliveryJob = z.infer<typeof NotifierDeliveryJobSchema>;
export type NotifierDeliveryJobInput = z.input<typeof NotifierDeliveryJobSchema>;

/** A digest tick (job name `digest` on the deliveries queue), from the subscription's job scheduler. */
export const DigestJobSchema = z.object({
  v: z.literal(1),
  subscriptionId: z.string(),
  /** The window's end, epoch ms. A scheduled tick takes it from its slot; set it to trigger one by hand. */
  windowEnd: z.number().int().optional(),
});
export type DigestJob = z.infer<typeof DigestJobSchema>;

/** BullMQ job names on the deliveries queue. */
export const JOB_NAMES = { deliver: 'deliver', deliverBatch: 'deliver-batch', digest: 'digest' } as const;

/**
 * The attempt number a delivery job starts at, read from any BullMQ job's data without parsing it
 * (backoff strategies and the api see raw jobs): 2 for one that left a `deliver-batch` after its
 * first attempt, else 1.
 */
export function firstAttemptOf(job: { data?: unknown } | undefined): number {
  const first = (job?.data as { firstAttempt?: unknown } | undefined)?.firstAttempt;
  return typeof first === 'number' && Number.isInteger(first) && first >= 1 ? first : 1;
}
