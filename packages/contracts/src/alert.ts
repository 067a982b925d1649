import { z } from 'zod';
import { EvidenceSchema } from './classification.js';
import { FeedIdSchema } from './feed.js';
import { AlertIdentifierSchema } from './identifier.js';
import { JurisdictionSchema, SeveritySchema, TopicSchema } from './taxonomy.js';

/** Where a story was seen; one story can arrive through several feeds and outlets. */
export const AlertSourceSchema = z.object({
  feedId: FeedIdSchema,
  itemId: z.string(),
  url: z.string().optional(),
  title: z.string(),
  published: z.string(),
});
export type AlertSource = z.infer<typeof AlertSourceSchema>;

/** A flagged item with its classification: what the notifier routes and the api lists. */
export const AlertSchema = z.object({
  id: z.string().min(1).max(160),
  storyId: z.string(),
  itemId: z.string(),
  feedId: FeedIdSchema,
  title: z.string(),
  url: z.string().optional(),
  summary: z.string(),
  published: z.string(),
  score: z.number(),
  severity: SeveritySchema,
  topics: z.array(TopicSchema),
  jurisdictions: z.array(JurisdictionSchema),
  entities: z.array(z.string()),
  evidence: z.array(EvidenceSchema),
  rulesVersion: z.string(),
  /**
   * Trade-control identifiers the story names (kind and normalized value, once each, at most 32).
   * Optional so alerts stored before identifiers existed still parse: absent means none.
   */
  identifiers: z.array(AlertIdentifierSchema).max(32).optional(),
  sources: z.array(AlertSourceSchema).min(1),
  /** When the poller fetched the item: the start of the pipeline's latency. */
  fetchedAt: z.string().optional(),
  createdAt: z.string(),
});
export type Alert = z.infer<typeof AlertSchema>;

export const DeliveryStatusSchema = z.enum(['pending', 'delivered', 'retrying', 'dead']);

/** One attempt to deliver one story to one channel of one subscription. */
export const DeliveryAttemptSchema = z.object({
  deliveryId: z.string(),
  alertId: z.string(),
  subscriptionId: z.string(),
  channel: z.enum(['webhook', 'email']),
  attempt: z.number().int().min(1),
  at: z.string(),
  ok: z.boolean(),
  /** HTTP status or SMTP reply code. */
  code: z.number().int().optional(),
  latencyMs: z.number(),
  error: z.string().optional(),
});
export type DeliveryAttempt = z.infer<typeof DeliveryAttemptSchema>;
