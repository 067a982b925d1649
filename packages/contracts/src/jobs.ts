import { z } from 'zod';
import { AlertSchema } from './alert.js';
import { FeedIdSchema, type FeedItem, FeedItemSchema } from './feed.js';
import { SourceIncidentSchema, SourceIncidentTransitionSchema } from './source-health.js';

/**
 * Queue names. Never rename one in place: add the new queue, drain the old one, then remove it.
 */
export const QUEUES = {
  polls: 'polls',
  items: 'items',
  alerts: 'alerts',
  deliveries: 'deliveries',
  /** Source incidents (silent, empty, failing) on their way to the ops channel. */
  ops: 'ops',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Every payload carries `v`, so a worker can refuse a shape it does not know instead of guessing. */
export const PollJobSchema = z.object({ v: z.literal(1), feedId: FeedIdSchema });
export type PollJob = z.infer<typeof PollJobSchema>;

/**
 * Most items in one `items` job. A poll's new items travel together (one job, not one per item):
 * the job's BullMQ cost and the classifier's Redis round trips are shared by the batch. The cap
 * bounds a job's size (a summary is at most a few KB) and how much one retry redoes.
 */
export const MAX_ITEMS_PER_JOB = 25;

/**
 * The `items` queue's payload: v2 carries the new items of one poll (at most
 * {@link MAX_ITEMS_PER_JOB}); v1, one item per job, is what pollers before batching queued, and is
 * still classified during an upgrade.
 */
export const ItemJobSchema = z.discriminatedUnion('v', [
  z.object({ v: z.literal(1), item: FeedItemSchema }),
  z.object({ v: z.literal(2), items: z.array(FeedItemSchema).min(1).max(MAX_ITEMS_PER_JOB) }),
]);
export type ItemJob = z.infer<typeof ItemJobSchema>;

/** The items a job carries, whichever its version. */
export function itemsOfJob(job: ItemJob): FeedItem[] {
  return job.v === 1 ? [job.item] : job.items;
}

/**
 * The `alerts` queue's payload. Nothing queues it any more (the classifier routes each alert in its
 * `items` job); the notifier still routes the ones an older classifier queued during an upgrade.
 */
export const AlertJobSchema = z.object({ v: z.literal(1), alert: AlertSchema });
export type AlertJob = z.infer<typeof AlertJobSchema>;

/** Ids only: secrets and addresses are looked up at delivery time (queues are visible to ops). */
export const DeliveryJobSchema = z.object({
  v: z.literal(1),
  deliveryId: z.string(),
  alertId: z.string(),
  storyId: z.string(),
  subscriptionId: z.string(),
  channelKey: z.string(),
});
export type DeliveryJob = z.infer<typeof DeliveryJobSchema>;

/**
 * A source incident opened or resolved, for the ops channel. The job id is
 * `ops-<incident id>-<transition>`, so a transition is queued once however often it is observed.
 */
export const OpsEventJobSchema = z.object({
  v: z.literal(1),
  transition: SourceIncidentTransitionSchema,
  incident: SourceIncidentSchema,
  /** The feed's name and URL when the poller knew them, for a readable notice. */
  feedName: z.string().max(200).optional(),
  feedUrl: z.string().max(2048).optional(),
  /** When the transition was observed (ISO 8601). */
  at: z.iso.datetime(),
});
export type OpsEventJob = z.infer<typeof OpsEventJobSchema>;

/** The schema each queue's payload must satisfy. */
export const JOB_SCHEMAS = {
  [QUEUES.polls]: PollJobSchema,
  [QUEUES.items]: ItemJobSchema,
  [QUEUES.alerts]: AlertJobSchema,
  [QUEUES.deliveries]: DeliveryJobSchema,
  [QUEUES.ops]: OpsEventJobSchema,
} as const;
