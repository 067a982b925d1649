import type { FeedItem } from '@regwatch/contracts';
import { decodeDocument } from './decode-text.js';
import { feedParseError } from './feed-errors.js';
import { htmlToText } from './html-to-text.js';
import { parseJsonFeed } from './json-feed.js';
import { type FeedEntry, type NormalizeContext, toFeedEntry } from './normalize-item.js';
import type { FeedFormat, RawFeed } from './raw-feed.js';
import { parseXmlFeed } from './xml-feed.js';

export interface ParsedFeed {
  title?: string;
  link?: string;
  format: FeedFormat;
  items: FeedItem[];
  /**
   * Item id → the fragment of its link (without `#`) for items whose link named a place in a
   * page; `FeedItem.url` is canonical and has none. The poller's URL dedupe uses it.
   */
  fragments: Readonly<Record<string, string>>;
  /** A `page` source: the region text to keep once the items are queued (see page-watch.ts). */
  pageBaseline?: { of: string; text: string };
}

/**
 * A {@link ParsedFeed} whose items are normalized on demand: the poller reads every entry's id
 * and URL, and builds the FeedItem of the few it has not seen before.
 */
export interface ParsedEntries extends Omit<ParsedFeed, 'items' | 'fragments'> {
  /** In document order, one per item id, as `ParsedFeed.items`. */
  entries: FeedEntry[];
}

/** Builds every entry's FeedItem: the ParsedFeed the same document gives {@link parseFeed}. */
export function itemsOf(parsed: ParsedEntries): ParsedFeed {
  const { entries, ...rest } = parsed;
  const items: FeedItem[] = [];
  const fragments: Record<string, string> = {};
  for (const entry of entries) {
    items.push(entry.item());
    if (entry.fragment !== undefined) fragments[entry.id] = entry.fragment;
  }
  return { ...rest, items, fragments };
}

/** Entries of items already built (the source types that build their few items at once). */
export function entriesOf(parsed: ParsedFeed): ParsedEntries {
  const { items, fragments, ...rest } = parsed;
  return {
    ...rest,
    entries: items.map((item) => {
      const fragment = fragments[item.id];
      return {
        id: item.id,
        ...(item.url !== undefined ? { url: item.url } : {}),
        ...(fragment !== undefined ? { fragment } : {}),
        item: () => item,
      };
    }),
  };
}

export interface ParseFeedOptions {
  feedId: string;
  contentType?: string;
  /** The URL the document was fetched from (after redirects): the base for relative links. */
  baseUrl: string;
  fetchedAt: Date;
  /** The configured language hint, used when the feed does not declare one. */
  lang?: string;
}

/** Far above the fetch cap (5 MiB); a guard for callers that hand in bytes from elsewhere. */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * JSON or XML is decided by the first significant byte, not the Content-Type: servers label
 * feeds text/plain, text/html or application/octet-stream often enough. BOMs, whitespace and the
 * zero bytes of UTF-16 are skipped.
 */
function looksLikeJson(body: Buffer): boolean {
  for (const byte of body.subarray(0, 256)) {
    if ([0x00, 0x09, 0x0a, 0x0d, 0x20, 0xef, 0xbb, 0xbf, 0xfe, 0xff].includes(byte)) continue;
    return byte === 0x7b || byte === 0x5b; // "{" or "["
  }
  return false;
}

/** RSS has no base URL of its own; relative links in real feeds are meant against the site. */
function resolveBase(raw: RawFeed, baseUrl: string): string {
  if (raw.link) {
    try {
      const home = new URL(raw.link.trim(), baseUrl);
      if (home.protocol === 'http:' || home.protocol === 'https:') return home.href;
    } catch {
      // a garbage <link> falls back to the fetch URL
    }
  }
  return baseUrl;
}

/**
 * Parses one feed document (RSS 0.9x/2.0, RSS 1.0/RDF, Atom 1.0, JSON Feed 1.0/1.1, RSS-in-JSON)
 * into normalized, schema-valid FeedItems. Bytes are decoded by BOM, Content-Type charset, XML
 * declaration or sniffing; entity declarations are refused; at most 1 000 items are kept.
 *
 * @throws PermanentError `FEED_PARSE` with a short message naming what is wrong, e.g.
 * "not a feed: got an HTML document", "truncated JSON at position 1234",
 * "XML entity declarations are not allowed", "malformed XML: Unexpected close tag at line 5, column 3".
 */
export async function parseFeed(body: Buffer, opts: ParseFeedOptions): Promise<ParsedFeed> {
  return itemsOf(await parseFeedEntries(body, opts));
}

/**
 * {@link parseFeed} with each item's normalization left to `entry.item()`: ids, URLs and the
 * count of items are final, the rest is done for the entries a caller asks for.
 * @throws PermanentError `FEED_PARSE` as `parseFeed` does.
 */
export async function parseFeedEntries(body: Buffer, opts: ParseFeedOptions): Promise<ParsedEntries> {
  if (body.length === 0) throw feedParseError('not a feed: the response body is empty');
  if (body.length > MAX_DOCUMENT_BYTES) {
    throw feedParseError(`not a feed: ${body.length} bytes is more than the ${MAX_DOCUMENT_BYTES}-byte limit`);
  }
  const isJson = looksLikeJson(body);
  const { text } = decodeDocument(body, opts.contentType, isJson);
  const trimmed = text.trimStart();
  const raw =
    isJson && (trimmed.startsWith('{') || trimmed.startsWith('[')) ? parseJsonFeed(trimmed) : await parseXmlFeed(text);

  const base = resolveBase(raw, opts.baseUrl);
  const lang = raw.lang?.trim() || opts.lang;
  const ctx: NormalizeContext = {
    feedId: opts.feedId,
    baseUrl: base,
    fetchedAt: opts.fetchedAt,
    ...(lang ? { lang } : {}),
  };
  const seen = new Set<string>();
  const entries: FeedEntry[] = [];
  for (const rawItem of raw.items) {
    const entry = toFeedEntry(rawItem, ctx);
    if (entry === undefined || seen.has(entry.id)) continue;
    seen.add(entry.id);
    entries.push(entry);
  }
  const title = raw.title === undefined ? undefined : htmlToText(raw.title);
  return {
    ...(title ? { title } : {}),
    ...(raw.link?.trim() ? { link: base } : {}),
    format: raw.format,
    entries,
  };
}
