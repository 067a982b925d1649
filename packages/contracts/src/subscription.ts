import { z } from 'zod';
import { FeedIdSchema, HttpUrlSchema } from './feed.js';
import { parseIdentifierQuery } from './identifier.js';
import { JurisdictionSchema, SeveritySchema, TopicSchema } from './taxonomy.js';

export const SubscriptionIdSchema = FeedIdSchema;

/**
 * Standard Webhooks secrets are `whsec_` + base64 of 24–64 random bytes. Several may be listed
 * during a rotation: every signature is sent and the receiver accepts any it knows.
 */
export const WebhookSecretSchema = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]{20,}={0,2}$/, 'must be a Standard Webhooks secret: "whsec_" followed by base64');

export const WebhookChannelSchema = z.object({
  type: z.literal('webhook'),
  url: HttpUrlSchema,
  secret: z.union([WebhookSecretSchema, z.array(WebhookSecretSchema).min(1).max(4)]),
});
export type WebhookChannel = z.infer<typeof WebhookChannelSchema>;

/** Mail addresses: a plain addr-spec, and never a CR/LF or a comma that could smuggle a header. */
export const EmailAddressSchema = z
  .string()
  .trim()
  .max(254)
  .regex(
    /^[^\s@,;<>"()\\[\]]+@[^\s@,;<>"()\\[\]]+\.[^\s@,;<>"()\\[\]]+$/,
    'must be an email address like team@example.com',
  );

export const EmailChannelSchema = z.object({
  type: z.literal('email'),
  to: z.array(EmailAddressSchema).min(1).max(50),
});
export type EmailChannel = z.infer<typeof EmailChannelSchema>;

export const ChannelSchema = z.discriminatedUnion('type', [WebhookChannelSchema, EmailChannelSchema]);
export type Channel = z.infer<typeof ChannelSchema>;

/** One entry of a subscription's `identifiers`: anything {@link parseIdentifierQuery} reads. */
export const IdentifierQuerySchema = z
  .string({
    // YAML reads `8542.31` and `8542` as numbers (and would drop the 0 of `8542.30`).
    error: (iss) =>
      typeof iss.input === 'number'
        ? `must be a string: quote codes such as "${iss.input}" (YAML reads them as numbers)`
        : undefined,
  })
  .min(1)
  .max(64)
  .superRefine((s, ctx) => {
    const parsed = parseIdentifierQuery(s);
    if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
  });

export const SubscriptionFilterSchema = z.object({
  topics: z.array(TopicSchema).optional(),
  jurisdictions: z.array(JurisdictionSchema).optional(),
  /** Canonical entity names (`NVIDIA`, `BIS`); matched case-insensitively. */
  entities: z.array(z.string().min(1).max(100)).optional(),
  /** The team's own words (its company, products, suppliers): a match raises severity. */
  watchTerms: z.array(z.string().min(2).max(100)).max(200).optional(),
  minSeverity: SeveritySchema.optional(),
  feeds: z.array(FeedIdSchema).optional(),
  /**
   * Trade-control identifiers to watch (`3A090`, `8542.31`, `15 CFR 744`, `2025-12345`, `90 FR 12345`):
   * matches alerts naming any of them or anything below them (`3A090` matches `3A090.a`).
   */
  identifiers: z.array(IdentifierQuerySchema).max(200).optional(),
});
export type SubscriptionFilter = z.infer<typeof SubscriptionFilterSchema>;

export const DigestScheduleSchema = z.union([
  z.object({ everyMinutes: z.number().int().min(5).max(10_080) }),
  z.object({
    dailyAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM in 24-hour time'),
    timeZone: z.string().default('UTC'),
  }),
]);

export const SubscriptionSchema = z.object({
  id: SubscriptionIdSchema,
  team: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a slug of lower-case letters, digits, "-" and "_"'),
  name: z.string().max(200).optional(),
  filter: SubscriptionFilterSchema.default({}),
  channels: z.array(ChannelSchema).min(1, 'must list at least one channel'),
  mode: z.enum(['immediate', 'digest']).default('immediate'),
  digest: DigestScheduleSchema.optional(),
  paused: z.boolean().default(false),
  /** Who hears about the subscription itself (an endpoint disabled…); default its email channels. */
  contact: z.array(EmailAddressSchema).min(1).max(20).optional(),
});
export type Subscription = z.infer<typeof SubscriptionSchema>;
export type SubscriptionInput = z.input<typeof SubscriptionSchema>;
