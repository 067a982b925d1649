import { z } from 'zod';
import { AlertSchema } from './alert.js';
import { FeedIdSchema, FeedItemSchema } from './feed.js';
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

export const ItemJobSchema = z.object({ v: z.literal(1), item: FeedItemSchema });
export type ItemJob = z.infer<typeof ItemJobSchema>;

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
