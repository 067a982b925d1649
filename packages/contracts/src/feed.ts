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

/**
 * How a source is read. A feed without `type` is `rss` (RSS, Atom, RDF or JSON Feed), so every
 * config written before source types existed still parses.
 */
export const FEED_SOURCE_TYPES = ['rss', 'html', 'federalregister', 'page'] as const;
export type FeedSourceType = (typeof FEED_SOURCE_TYPES)[number];

/**
 * A CSS selector, optionally followed by `@attribute` (`a@href`, `time@datetime`): the attribute's
 * value instead of the element's text. An empty selector before `@` (`@href`) is the element itself.
 */
export const SelectorSchema = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .refine((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20), 'must not contain control characters');

/**
 * `YYYY` (or `YY`), `MM`/`M`, `DD`/`D`, optionally `HH`, `mm`, `ss`; every other character is
 * literal (`YYYY年M月D日`, `DD/MM/YYYY`, `YYYY-MM-DD HH:mm`).
 */
export const DateFormatSchema = z
  .string()
  .min(2)
  .max(64)
  .refine(
    (s) => /Y{2,4}/.test(s) && /M/.test(s.replace(/mm/g, '')) && /D/.test(s),
    'must name a year (YYYY or YY), a month (MM or M) and a day (DD or D), e.g. "YYYY-MM-DD"',
  );

export const FEDERAL_REGISTER_DOCUMENT_TYPES = ['RULE', 'PRORULE', 'NOTICE', 'PRESDOCU'] as const;
export type FederalRegisterDocumentType = (typeof FEDERAL_REGISTER_DOCUMENT_TYPES)[number];

/** The documents API every built Federal Register source queries. */
export const FEDERAL_REGISTER_API = 'https://www.federalregister.gov/api/v1/documents.json';

/** The fields the poller reads from each document; asking for them keeps the response small. */
export const FEDERAL_REGISTER_FIELDS = [
  'document_number',
  'title',
  'type',
  'abstract',
  'agencies',
  'cfr_references',
  'publication_date',
  'effective_on',
  'comments_close_on',
  'html_url',
  'pdf_url',
  'citation',
] as const;

const feedCommon = {
  id: FeedIdSchema,
  /** Seconds between polls; at least 30 so one config line cannot hammer a publisher. */
  intervalSeconds: z.number().int().min(30).max(86_400).default(300),
  title: z.string().max(200).optional(),
  enabled: z.boolean().default(true),
  /** Hints for the classifier when a feed does not say it: the language and jurisdiction it covers. */
  lang: z.string().max(16).optional(),
  jurisdiction: z.string().trim().min(1).max(32).optional(),
};

const rssShape = {
  ...feedCommon,
  // Optional rather than defaulted: feeds written before source types existed (config files,
  // stored API feeds, code building a FeedSource) stay valid as they are, at the type level too.
  type: z.literal('rss').optional().describe('the default when `type` is left out'),
  url: HttpUrlSchema,
};

const htmlShape = {
  ...feedCommon,
  type: z.literal('html'),
  /** The list page. */
  url: HttpUrlSchema,
  selectors: z
    .object({
      /** One match per list entry; the others are looked up inside it. */
      item: SelectorSchema,
      title: SelectorSchema,
      link: SelectorSchema,
      date: SelectorSchema.optional(),
      summary: SelectorSchema.optional(),
    })
    .strict(),
  dateFormat: DateFormatSchema.optional(),
};

const federalRegisterShape = {
  ...feedCommon,
  type: z.literal('federalregister'),
  /** A documents.json query URL as is; or leave it out and give `agencies` to have it built. */
  url: HttpUrlSchema.optional(),
  /** Agency slugs as the API names them (`industry-and-security-bureau`). */
  agencies: z
    .array(
      z
        .string()
        .trim()
        .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be an agency slug such as "industry-and-security-bureau"')
        .max(100),
    )
    .min(1)
    .max(20)
    .optional(),
  documentTypes: z.array(z.enum(FEDERAL_REGISTER_DOCUMENT_TYPES)).min(1).max(4).optional(),
  term: z.string().trim().min(1).max(200).optional(),
};

const pageShape = {
  ...feedCommon,
  type: z.literal('page'),
  url: HttpUrlSchema,
  /** The region watched: the first element it matches (CSS). */
  selector: SelectorSchema,
};

type Extra = Record<string, z.ZodType>;

function federalRegisterRefine(
  value: { url?: unknown; agencies?: unknown; documentTypes?: unknown; term?: unknown },
  ctx: z.RefinementCtx,
) {
  if ((value.url === undefined) === (value.agencies === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [value.url === undefined ? 'agencies' : 'url'],
      message: 'give exactly one of `url` (a documents.json query URL) and `agencies` (to build one from)',
    });
  }
  if (value.url !== undefined && (value.documentTypes !== undefined || value.term !== undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [value.documentTypes !== undefined ? 'documentTypes' : 'term'],
      message: 'only used with `agencies`; put it in the `url` query instead',
    });
  }
}

/**
 * The feed-source union with `extra` fields on every member (the API adds `source`, or makes
 * `id` optional for PUT). Members are strict about their discriminator only: unknown keys are
 * dropped, as before source types existed.
 */
export function feedSourceSchemaWith<E extends Extra>(extra: E) {
  return z.discriminatedUnion(
    'type',
    [
      z.object({ ...rssShape, ...extra }),
      z.object({ ...htmlShape, ...extra }),
      z.object({ ...federalRegisterShape, ...extra }).superRefine(federalRegisterRefine),
      z.object({ ...pageShape, ...extra }),
    ],
    { error: () => `must be one of ${FEED_SOURCE_TYPES.map((t) => `"${t}"`).join(', ')} (default "rss")` },
  );
}

/** A source the poller reads: an RSS/Atom/JSON feed, an HTML list page, the Federal Register API or one page region. */
export const FeedSourceSchema = feedSourceSchemaWith({});
export type FeedSource = z.infer<typeof FeedSourceSchema>;
export type FeedSourceInput = z.input<typeof FeedSourceSchema>;
export type RssFeedSource = Extract<FeedSource, { type: 'rss' }>;
export type HtmlFeedSource = Extract<FeedSource, { type: 'html' }>;
export type FederalRegisterFeedSource = Extract<FeedSource, { type: 'federalregister' }>;
export type PageFeedSource = Extract<FeedSource, { type: 'page' }>;

/**
 * The documents.json URL of a Federal Register source built from agencies, document types and a
 * term: newest first, a page of 50, only the fields the poller reads.
 */
export function federalRegisterQueryUrl(source: {
  agencies?: readonly string[] | undefined;
  documentTypes?: readonly string[] | undefined;
  term?: string | undefined;
}): string {
  const q = new URLSearchParams();
  for (const a of source.agencies ?? []) q.append('conditions[agencies][]', a);
  for (const t of source.documentTypes ?? []) q.append('conditions[type][]', t);
  if (source.term) q.append('conditions[term]', source.term);
  q.append('order', 'newest');
  q.append('per_page', '50');
  for (const f of FEDERAL_REGISTER_FIELDS) q.append('fields[]', f);
  return `${FEDERAL_REGISTER_API}?${q.toString()}`;
}

/** The source's type, `rss` when it names none. */
export function feedSourceType(source: Pick<FeedSource, 'type'>): FeedSourceType {
  return source.type ?? 'rss';
}

/** The URL a source is fetched from: its `url`, or the one built for a Federal Register source. */
export function feedSourceUrl(source: FeedSource): string {
  if (source.url !== undefined) return source.url;
  return federalRegisterQueryUrl(source as FederalRegisterFeedSource);
}

/** What a Federal Register document says about itself, as the documents API gives it. */
export const FederalRegisterMetaSchema = z.object({
  /** `2025-12345`: the FR Doc. number. */
  documentNumber: z.string().max(64),
  /** `Rule`, `Proposed Rule`, `Notice`, `Presidential Document` (the API's words). */
  documentType: z.string().max(64).optional(),
  agencies: z.array(z.string().max(300)).max(50).default([]),
  /** `15 CFR 744`, one per part affected. */
  cfrParts: z.array(z.string().max(64)).max(100).default([]),
  /** `90 FR 12345`. */
  citation: z.string().max(64).optional(),
  /** `YYYY-MM-DD` dates as published. */
  publicationDate: z.string().max(32).optional(),
  effectiveDate: z.string().max(32).optional(),
  commentDeadline: z.string().max(32).optional(),
  htmlUrl: z.string().max(4096).optional(),
  pdfUrl: z.string().max(4096).optional(),
});
export type FederalRegisterMeta = z.infer<typeof FederalRegisterMetaSchema>;

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
  /** Structured fields of a Federal Register document (source type `federalregister`). */
  federalRegister: FederalRegisterMetaSchema.optional(),
});
export type FeedItem = z.infer<typeof FeedItemSchema>;
