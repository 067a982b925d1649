import { z } from 'zod';
import { AlertSchema } from './alert.js';
import { FeedIdSchema, FeedItemSchema } from './feed.js';

/**
 * Queue names. Never rename one in place: add the new queue, drain the old one, then remove it.
 */
export const QUEUES = {
  polls: 'polls',
  items: 'items',
  alerts: 'alerts',
  deliveries: 'deliveries',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Every payload carries `v`, so a worker can refuse a shape it does not know instead of guessing. */
export const PollJobSchema = z.object({ v: z.literal(1), feedId: FeedIdSchema });
export type PollJob = z.infer<typeof PollJobSchema>;

export const ItemJobSchema = z.object({ v: z.literal(1), item: FeedItemSchema });
export type ItemJob = z.infer<typeof ItemJobSchema>;

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

/** The schema each queue's payload must satisfy. */
export const JOB_SCHEMAS = {
  [QUEUES.polls]: PollJobSchema,
  [QUEUES.items]: ItemJobSchema,
  [QUEUES.alerts]: AlertJobSchema,
  [QUEUES.deliveries]: DeliveryJobSchema,
} as const;
