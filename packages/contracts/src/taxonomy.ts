import { z } from 'zod';

/** The closed set of topics a story can be flagged for. */
export const TOPICS = [
  'export_controls',
  'sanctions',
  'customs_enforcement',
  'tariffs_trade_remedies',
  'smuggling',
  'import_restrictions',
] as const;
export const TopicSchema = z.enum(TOPICS);
export type Topic = z.infer<typeof TopicSchema>;

/** Severities in increasing order of urgency; the order is used by `minSeverity` filters. */
export const SEVERITIES = ['info', 'notice', 'high', 'critical'] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

/** Rank of a severity, for comparisons (`info` = 0). */
export function rankSeverity(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/**
 * Jurisdiction codes are ISO-3166 alpha-2 style (`US`, `CN`, `NL`), plus `EU`, `UK` (the
 * code newsrooms and the labelled sets use for the United Kingdom) and `other`.
 */
export const JurisdictionSchema = z
  .string()
  .regex(/^([A-Z]{2}|other)$/, 'must be a two-letter upper-case code such as "US" or "CN", or "other"');
export type Jurisdiction = z.infer<typeof JurisdictionSchema>;
