import { z } from 'zod';
import { IdentifierSchema } from './identifier.js';
import { JurisdictionSchema, SeveritySchema, TopicSchema } from './taxonomy.js';

/** What kind of conclusion a piece of evidence supports. */
export const EvidenceKindSchema = z.enum(['topic', 'jurisdiction', 'entity', 'context', 'negative', 'watch']);

/** One match that contributed to a classification: enough for an email to say *why* it was sent. */
export const EvidenceSchema = z.object({
  field: z.enum(['title', 'summary']),
  /** UTF-16 offsets into the field's original text, `text === field.slice(start, end)`. */
  start: z.number().int().min(0),
  end: z.number().int().min(0),
  text: z.string(),
  rule: z.string(),
  kind: EvidenceKindSchema,
  /** The topic, jurisdiction code or canonical entity name the match points to. */
  target: z.string().optional(),
  weight: z.number(),
});
export type Evidence = z.infer<typeof EvidenceSchema>;

export const ClassificationSchema = z.object({
  flagged: z.boolean(),
  score: z.number().min(0).max(1),
  severity: SeveritySchema,
  topics: z.array(TopicSchema),
  jurisdictions: z.array(JurisdictionSchema),
  entities: z.array(z.string()),
  evidence: z.array(EvidenceSchema),
  rulesVersion: z.string(),
  /** Trade-control identifiers named in the title or summary (ECCNs, HS codes, CFR, FR numbers, dates), once per kind and value. */
  identifiers: z.array(IdentifierSchema),
  /** Items that tell the same story (syndication, several feeds) share this id. */
  storyId: z.string(),
});
export type Classification = z.infer<typeof ClassificationSchema>;

/** The input the classifier needs; a FeedItem satisfies it. */
export const ClassifyInputSchema = z.object({
  title: z.string().max(2000),
  summary: z.string().max(20_000).default(''),
  url: z.string().max(4096).optional(),
  lang: z.string().max(16).optional(),
});
export type ClassifyInput = z.input<typeof ClassifyInputSchema>;

// Identifiers live in their own module; re-exported here so the package index stays as it is.
export * from './identifier.js';
