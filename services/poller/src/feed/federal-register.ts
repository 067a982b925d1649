import { type FederalRegisterMeta, type FeedItem, FeedItemSchema, formatIssues } from '@regwatch/contracts';
import { z } from 'zod';
import { canonicalUrl } from './canonical-url.js';
import { decodeDocument } from './decode-text.js';
import { feedParseError } from './feed-errors.js';
import { htmlToText } from './html-to-text.js';
import { itemId } from './item-id.js';
import type { ParsedFeed, ParseFeedOptions } from './parse-feed.js';

/** Documents read from one response; the built query asks for 50. */
const MAX_DOCUMENTS = 500;
const MAX_BYTES = 16 * 1024 * 1024;

const text = z.string().max(100_000).nullish();
const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}/, 'must be a YYYY-MM-DD date')
  .nullish();

/**
 * The part of a documents.json response the poller reads. Lenient where the API is (null for an
 * absent field, extra fields ignored), strict where an item would be wrong without it.
 */
const DocumentSchema = z.object({
  document_number: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._-]+$/, 'must be a document number such as "2025-12345"'),
  title: z.string().max(5000),
  type: text,
  abstract: text,
  agencies: z
    .array(z.object({ name: text, raw_name: text, slug: text }).nullable())
    .nullish()
    .transform((list) => list ?? []),
  cfr_references: z
    .array(
      z
        .object({
          title: z.union([z.number(), z.string()]).nullish(),
          part: z.union([z.number(), z.string()]).nullish(),
        })
        .nullable(),
    )
    .nullish()
    .transform((list) => list ?? []),
  publication_date: date,
  effective_on: date,
  comments_close_on: date,
  html_url: z.string().max(4096).nullish(),
  pdf_url: z.string().max(4096).nullish(),
  citation: text,
});
type Document = z.infer<typeof DocumentSchema>;

const ResponseSchema = z.object({
  count: z.number().optional(),
  // The API leaves `results` out when nothing matches.
  results: z
    .array(DocumentSchema)
    .max(MAX_DOCUMENTS * 10)
    .optional(),
});

function clean(value: string | null | undefined): string | undefined {
  const t = value?.replace(/\s+/g, ' ').trim();
  return t ? t : undefined;
}

/** "Rule · Industry and Security Bureau · 15 CFR 744 · FR Doc. 2025-12345 · 90 FR 12345 · …", then the abstract. */
export function federalRegisterSummary(meta: FederalRegisterMeta, abstract: string | undefined): string {
  const parts = [
    meta.documentType,
    meta.agencies.join(', ') || undefined,
    meta.cfrParts.join(', ') || undefined,
    `FR Doc. ${meta.documentNumber}`,
    meta.citation,
    meta.publicationDate ? `Published ${meta.publicationDate}` : undefined,
    meta.effectiveDate ? `Effective ${meta.effectiveDate}` : undefined,
    meta.commentDeadline ? `Comments due ${meta.commentDeadline}` : undefined,
  ].filter((p): p is string => p !== undefined);
  const head = parts.join(' · ');
  return abstract ? `${head}\n\n${abstract}` : head;
}

function toMeta(doc: Document): FederalRegisterMeta {
  const agencies = [
    ...new Set(
      doc.agencies
        .map((a) => clean(a?.name) ?? clean(a?.raw_name) ?? clean(a?.slug))
        .filter((a): a is string => a !== undefined),
    ),
  ];
  const cfrParts = [
    ...new Set(
      doc.cfr_references
        .filter((r) => r?.title != null && r.part != null)
        .map((r) => `${String(r!.title).trim()} CFR ${String(r!.part).trim()}`),
    ),
  ];
  const htmlUrl = doc.html_url ? canonicalUrl(doc.html_url) : undefined;
  const pdfUrl = doc.pdf_url ? canonicalUrl(doc.pdf_url) : undefined;
  const documentType = clean(doc.type);
  const citation = clean(doc.citation);
  return {
    documentNumber: doc.document_number.trim(),
    ...(documentType ? { documentType } : {}),
    agencies: agencies.slice(0, 50).map((a) => a.slice(0, 300)),
    cfrParts: cfrParts.slice(0, 100),
    ...(citation ? { citation: citation.slice(0, 64) } : {}),
    ...(doc.publication_date ? { publicationDate: doc.publication_date.slice(0, 10) } : {}),
    ...(doc.effective_on ? { effectiveDate: doc.effective_on.slice(0, 10) } : {}),
    ...(doc.comments_close_on ? { commentDeadline: doc.comments_close_on.slice(0, 10) } : {}),
    ...(htmlUrl ? { htmlUrl } : {}),
    ...(pdfUrl ? { pdfUrl } : {}),
  };
}

/**
 * Reads a Federal Register documents.json response: one item per document, its id from the
 * document number (a re-poll yields the same ids), `url` the document's HTML page, `published`
 * its publication date, the structured fields in `federalRegister` and, readably, at the head of
 * the summary so the classifier sees them.
 *
 * @throws PermanentError `FEED_PARSE` naming what is wrong: "not JSON: …", or the field, as in
 * "Federal Register response: results[1].document_number: …".
 */
export function parseFederalRegister(body: Buffer, opts: ParseFeedOptions): ParsedFeed {
  if (body.length === 0) throw feedParseError('not a Federal Register response: the body is empty');
  if (body.length > MAX_BYTES) {
    throw feedParseError(
      `not a Federal Register response: ${body.length} bytes is more than the ${MAX_BYTES}-byte limit`,
    );
  }
  const { text: json } = decodeDocument(body, opts.contentType, true);
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw feedParseError(`not a Federal Register response: not JSON (${(err as Error).message})`, err);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw feedParseError('not a Federal Register response: expected a JSON object with `results`');
  }
  if (!('results' in raw) && !('count' in raw)) {
    throw feedParseError('not a Federal Register response: it has neither `results` nor `count`');
  }
  const parsed = ResponseSchema.safeParse(raw);
  if (!parsed.success) {
    throw feedParseError(`Federal Register response: ${formatIssues(parsed.error).slice(0, 3).join('; ')}`);
  }
  const fetchedAt = opts.fetchedAt.toISOString();
  const items: FeedItem[] = [];
  const ids = new Set<string>();
  for (const doc of (parsed.data.results ?? []).slice(0, MAX_DOCUMENTS)) {
    const meta = toMeta(doc);
    const id = itemId({ guid: `federalregister:${meta.documentNumber}`, feedId: opts.feedId });
    if (ids.has(id)) continue;
    ids.add(id);
    const abstract = doc.abstract ? htmlToText(doc.abstract) : undefined;
    const title = htmlToText(doc.title) || `FR Doc. ${meta.documentNumber}`;
    const published = meta.publicationDate ? new Date(`${meta.publicationDate}T00:00:00Z`) : undefined;
    const hasDate = published !== undefined && !Number.isNaN(published.getTime());
    items.push(
      FeedItemSchema.parse({
        id,
        feedId: opts.feedId,
        guid: meta.documentNumber,
        ...(meta.htmlUrl ? { url: meta.htmlUrl } : {}),
        title: title.slice(0, 2000),
        summary: federalRegisterSummary(meta, abstract).slice(0, 20_000),
        published: hasDate ? published.toISOString() : fetchedAt,
        publishedEstimated: !hasDate,
        fetchedAt,
        lang: opts.lang ?? 'en',
        categories: meta.documentType ? [meta.documentType] : [],
        federalRegister: meta,
      }),
    );
  }
  return { title: 'Federal Register', link: opts.baseUrl, format: 'federalregister', items, fragments: {} };
}
