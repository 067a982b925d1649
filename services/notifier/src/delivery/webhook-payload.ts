import {
  AlertIdentifierSchema,
  AlertSourceSchema,
  EvidenceSchema,
  JurisdictionSchema,
  SeveritySchema,
  TopicSchema,
} from '@regwatch/contracts';
import { z } from 'zod';

/**
 * `alert.created` for the first delivery of a story, `alert.updated` when it gained sources since,
 * `alert.digest` for a digest subscription's periodic message listing a window's stories.
 */
export const WebhookEventTypeSchema = z.enum(['alert.created', 'alert.updated', 'alert.digest']);
export type WebhookEventType = z.infer<typeof WebhookEventTypeSchema>;

/** The event types whose `data` is one alert. */
export const WebhookAlertEventTypeSchema = z.enum(['alert.created', 'alert.updated']);
export type WebhookAlertEventType = z.infer<typeof WebhookAlertEventTypeSchema>;

/** The alert as a webhook receiver sees it: one story, all its sources. */
export const WebhookAlertSchema = z.object({
  id: z.string().meta({ description: 'Alert id; stable across alert.created and alert.updated of one story.' }),
  storyId: z.string().meta({ description: 'Alerts about the same story (syndication, several feeds) share it.' }),
  title: z.string(),
  url: z
    .string()
    .optional()
    .meta({ description: 'Link to the item, as the feed gave it; check the scheme before use.' }),
  summary: z.string().meta({ description: 'Plain text (HTML removed); not escaped.' }),
  published: z.string().meta({ description: 'ISO 8601 publication time of the item.' }),
  severity: SeveritySchema.meta({
    description: 'Severity for this subscription: one step above the story’s when a watch term of yours appears.',
  }),
  topics: z.array(TopicSchema),
  jurisdictions: z.array(JurisdictionSchema),
  entities: z.array(z.string()),
  evidence: z.array(EvidenceSchema).meta({
    description: 'What the classifier matched; start/end are UTF-16 offsets into title or summary.',
  }),
  sources: z.array(AlertSourceSchema).min(1).meta({ description: 'Every feed item the story was seen in.' }),
  identifiers: z.array(AlertIdentifierSchema).meta({
    description:
      'Trade-control identifiers the story names, once each: kind eccn (3A090.a, EAR99), hs (8542.31, dotted), cfr (15 CFR 744.21), fr_doc (2025-12345), fr_citation (90 FR 12345), effective_date or comment_deadline (YYYY-MM-DD). Empty when it names none.',
  }),
  why: z.array(z.string()).meta({
    description:
      'Why this subscription got it: "topic:export_controls", "jurisdiction:CN", "entity:NVIDIA", "watch:Acme", "feed:bis-press", "identifier:3A090" (an identifier you watch) or "all".',
  }),
});
export type WebhookAlert = z.infer<typeof WebhookAlertSchema>;

const TimestampSchema = z.iso
  .datetime()
  .meta({ description: 'When the story last changed, or a digest window ended (not when this request was sent).' });

/** `alert.created` / `alert.updated`: one story, all its sources. */
export const WebhookAlertEventSchema = z.object({
  type: WebhookAlertEventTypeSchema,
  timestamp: TimestampSchema,
  data: WebhookAlertSchema,
});
export type WebhookAlertEvent = z.infer<typeof WebhookAlertEventSchema>;

/** `alert.digest`: the stories a digest subscription collected over one window. */
export const WebhookDigestSchema = z.object({
  subscriptionId: z.string(),
  window: z
    .object({ from: z.iso.datetime(), to: z.iso.datetime() })
    .meta({ description: 'The period the digest covers: stories routed after `from` and up to `to`.' }),
  total: z
    .number()
    .int()
    .min(0)
    .meta({ description: 'Stories in the window; more than `stories` lists when the digest was capped.' }),
  stories: z.array(WebhookAlertSchema).meta({ description: 'Most severe first, then newest.' }),
});
export type WebhookDigest = z.infer<typeof WebhookDigestSchema>;

export const WebhookDigestEventSchema = z.object({
  type: z.literal('alert.digest'),
  timestamp: TimestampSchema,
  data: WebhookDigestSchema,
});
export type WebhookDigestEvent = z.infer<typeof WebhookDigestEventSchema>;

/**
 * The JSON body of every webhook, following the Standard Webhooks payload shape
 * (`type`, `timestamp`, `data`). Signed per the spec: verify with the `webhook-id`,
 * `webhook-timestamp` and `webhook-signature` headers before trusting it.
 */
export const WebhookPayloadSchema = z
  .discriminatedUnion('type', [WebhookAlertEventSchema, WebhookDigestEventSchema])
  .meta({
    title: 'regwatch webhook payload',
    description:
      'Body of a regwatch webhook. Headers: webhook-id (the delivery id, the same on every retry: use it to drop duplicates), webhook-timestamp (Unix seconds at sending), webhook-signature (space-separated "v1,<base64 HMAC-SHA256>" values, one per active secret).',
  });
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;

/**
 * The JSON Schema published as `docs/webhook-payload.schema.json`. Objects do not forbid extra
 * properties: new fields may be added, and receivers must ignore the ones they do not know.
 */
export function webhookPayloadJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(WebhookPayloadSchema, {
    target: 'draft-2020-12',
    override: (ctx) => {
      delete (ctx.jsonSchema as { additionalProperties?: unknown }).additionalProperties;
    },
  });
  return { $schema, $id: WEBHOOK_PAYLOAD_SCHEMA_ID, ...rest };
}

/** Where the schema is published (its `$id`). */
export const WEBHOOK_PAYLOAD_SCHEMA_ID = 'https://regwatch.dev/schemas/webhook-payload.schema.json';
