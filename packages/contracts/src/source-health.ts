import { z } from 'zod';
import { FeedIdSchema } from './feed.js';

/**
 * What can go wrong with a source, as the poller sees it:
 * - `silent`: no new item for far longer than the source's learnt cadence;
 * - `empty`: a source that used to yield items now yields none (a changed page layout, a dead selector);
 * - `failing`: several polls in a row failed (unreachable, or a document that no longer parses).
 */
export const SOURCE_INCIDENT_KINDS = ['silent', 'empty', 'failing'] as const;
export const SourceIncidentKindSchema = z.enum(SOURCE_INCIDENT_KINDS);
export type SourceIncidentKind = z.infer<typeof SourceIncidentKindSchema>;

/** One incident of one source, from the poll that opened it to the one that resolved it. */
export const SourceIncidentSchema = z.object({
  /** `<feedId>-<kind>-<openedAt ms>`: stable for the incident's life, usable in job ids. */
  id: z.string().min(1).max(200),
  feedId: FeedIdSchema,
  kind: SourceIncidentKindSchema,
  openedAt: z.iso.datetime(),
  resolvedAt: z.iso.datetime().optional(),
  /** What was seen, in a sentence: `no new item for 9 days (usually one every 1 day)`, `FEED_PARSE: …`. */
  detail: z.string().max(500),
});
export type SourceIncident = z.infer<typeof SourceIncidentSchema>;

export const SourceIncidentTransitionSchema = z.enum(['opened', 'resolved']);
export type SourceIncidentTransition = z.infer<typeof SourceIncidentTransitionSchema>;
