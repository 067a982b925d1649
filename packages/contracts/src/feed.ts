import { z } from 'zod';

/** A feed id is used in Redis keys and BullMQ job ids, so it is a slug: no `:` and not all digits. */
export const FeedIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a slug of lower-case letters, digits, "-" and "_"')
  .refine((s) => !/^\d+$/.test(s), 'must not be all digits (BullMQ reserves numeric job ids)');

export const HttpUrlSchema = z
  .string()
  .trim()
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

export const FeedSourceSchema = z.object({
  id: FeedIdSchema,
  url: HttpUrlSchema,
  /** Seconds between polls; at least 30 so one config line cannot hammer a publisher. */
  intervalSeconds: z.number().int().min(30).max(86_400).default(300),
  title: z.string().max(200).optional(),
  enabled: z.boolean().default(true),
  /** Hints for the classifier when a feed does not say it: the language and jurisdiction it covers. */
  lang: z.string().max(16).optional(),
});
export type FeedSource = z.infer<typeof FeedSourceSchema>;
export type FeedSourceInput = z.input<typeof FeedSourceSchema>;

/** One item as the poller normalizes it, whatever the feed format. */
export const FeedItemSchema = z.object({
  /** Stable id: from guid, else canonical link, else title+date (see the poller's identity rules). */
  id: z.string().min(1).max(128),
  feedId: FeedIdSchema,
  guid: z.string().max(2048).optional(),
  /** Canonical URL (lower-case host, no fragment, no tracking parameters), when the item has a link. */
  url: z.string().max(4096).optional(),
  title: z.string().max(2000),
  /** Plain text, HTML removed. */
  summary: z.string().max(20_000),
  /** The original HTML description/content, capped. */
  contentHtml: z.string().max(100_000).optional(),
  /** ISO 8601. */
  published: z.string(),
  /** True when the feed gave no usable date and `published` is the fetch time. */
  publishedEstimated: z.boolean().default(false),
  fetchedAt: z.string(),
  lang: z.string().max(16).optional(),
  author: z.string().max(500).optional(),
  categories: z.array(z.string().max(200)).max(50).default([]),
});
export type FeedItem = z.infer<typeof FeedItemSchema>;
