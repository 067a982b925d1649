import type { FeedItem } from '@regwatch/contracts';
import { decodeDocument } from './decode-text.js';
import {
  chunkHash,
  type EntryMemo,
  formatEntryMemo,
  MAX_REMEMBERED_ENTRIES,
  memoContext,
  readEntryMemo,
} from './entry-memo.js';
import { feedParseError } from './feed-errors.js';
import { htmlToText } from './html-to-text.js';
import { findItemChunks, withoutChunks } from './item-chunks.js';
import { parseJsonFeed } from './json-feed.js';
import { type FeedEntry, type NormalizeContext, toFeedEntry } from './normalize-item.js';
import type { FeedFormat, RawFeed, RawItem } from './raw-feed.js';
import { MAX_ITEMS, type PreparedXml, parsePreparedXml, prepareXml } from './xml-feed.js';

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
  /**
   * In document order, one per item id, as `ParsedFeed.items`. With a memo, entries of elements
   * the memo knew are `remembered`: their identity only (see entry-memo.ts).
   */
  entries: FeedEntry[];
  /** An RSS/Atom document's memo, to hand to the next parse of this feed (see entry-memo.ts). */
  memo?: string;
}

/** Builds every entry's FeedItem: the ParsedFeed the same document gives {@link parseFeed}. */
export function itemsOf(parsed: ParsedEntries): ParsedFeed {
  const { entries, memo: _memo, ...rest } = parsed;
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
  /** The memo the previous parse of this feed returned: its known elements are not parsed again. */
  memo?: string;
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
  if (isJson && (trimmed.startsWith('{') || trimmed.startsWith('['))) {
    const raw = parseJsonFeed(trimmed);
    const ctx = contextOf(raw, opts);
    const entries: FeedEntry[] = [];
    const ids = new Set<string>();
    for (const rawItem of raw.items) keepFirst(entries, ids, toFeedEntry(rawItem, ctx));
    return result(raw, ctx, entries);
  }
  return parseXmlEntries(prepareXml(text), opts);
}

/**
 * An XML feed's entries, leaving out of the parse the item elements the memo knows (unchanged
 * since the last poll). What it returns is what parsing every element gives, with those entries'
 * `item()` missing; the self-checks below fall back to parsing everything.
 */
async function parseXmlEntries(prepared: PreparedXml, opts: ParseFeedOptions): Promise<ParsedEntries> {
  // Beyond MAX_ITEMS the parser keeps the first elements only, which a cut document would shift.
  const found = findItemChunks(prepared.xml, prepared.root);
  const chunks = found && found.length <= MAX_ITEMS ? found : undefined;
  const hashes = chunks?.map((chunk) => chunkHash(prepared.xml, chunk));
  const memo = chunks ? readEntryMemo(opts.memo) : undefined;
  const cut = new Set<number>();
  if (memo) {
    for (let k = 0; k < hashes!.length; k++) if (memo.entries.has(hashes![k]!)) cut.add(k);
  }

  let parsedFeed: { raw: RawFeed; ctx: NormalizeContext } | undefined;
  if (cut.size > 0) {
    const cutRaw = await parsePreparedXml({ ...prepared, xml: withoutChunks(prepared.xml, chunks!, cut) }).catch(
      () => undefined,
    );
    // Every element left in must have come back as an item, in the same feed context, or the
    // memo does not apply: parse everything.
    const cutCtx = cutRaw && contextOf(cutRaw, opts);
    if (cutRaw?.items.length === chunks!.length - cut.size && contextKey(cutRaw.format, cutCtx!) === memo!.context) {
      parsedFeed = { raw: cutRaw, ctx: cutCtx! };
    } else {
      cut.clear();
    }
  }
  if (parsedFeed === undefined) {
    const full = await parsePreparedXml(prepared);
    parsedFeed = { raw: full, ctx: contextOf(full, opts) };
  }
  const { raw, ctx } = parsedFeed;
  // The scanner and the parser must agree on the items (they always do on the layouts the scanner
  // takes; MAX_ITEMS cuts longer feeds): otherwise no memo this time.
  const aligned = chunks !== undefined && (cut.size > 0 || raw.items.length === chunks.length);

  const entries: FeedEntry[] = [];
  const ids = new Set<string>();
  if (!aligned) {
    for (const rawItem of raw.items) keepFirst(entries, ids, toFeedEntry(rawItem, ctx));
    return result(raw, ctx, entries);
  }
  const rows: Array<[string, FeedEntry]> = [];
  let parsed = 0;
  for (let k = 0; k < chunks!.length; k++) {
    const hash = hashes![k]!;
    const entry = cut.has(k) ? memo!.entries.get(hash)! : toFeedEntry(raw.items[parsed++] as RawItem, ctx);
    if (entry?.keyed && rows.length < MAX_REMEMBERED_ENTRIES) rows.push([hash, entry]);
    keepFirst(entries, ids, entry);
  }
  return { ...result(raw, ctx, entries), memo: formatEntryMemo(contextKey(raw.format, ctx), rows) };
}

/** Entries keep the first of each id, in document order. */
function keepFirst(entries: FeedEntry[], ids: Set<string>, entry: FeedEntry | undefined): void {
  if (entry === undefined || ids.has(entry.id)) return;
  ids.add(entry.id);
  entries.push(entry);
}

function contextOf(raw: RawFeed, opts: ParseFeedOptions): NormalizeContext {
  const lang = raw.lang?.trim() || opts.lang;
  return {
    feedId: opts.feedId,
    baseUrl: resolveBase(raw, opts.baseUrl),
    fetchedAt: opts.fetchedAt,
    ...(lang ? { lang } : {}),
  };
}

/** What a remembered entry's identity depends on besides its element (see {@link EntryMemo}). */
function contextKey(format: FeedFormat, { feedId, baseUrl, lang }: NormalizeContext): string {
  return memoContext({ feedId, format, baseUrl, ...(lang ? { lang } : {}) });
}

function result(raw: RawFeed, ctx: NormalizeContext, entries: FeedEntry[]): ParsedEntries {
  const title = raw.title === undefined ? undefined : htmlToText(raw.title);
  return {
    ...(title ? { title } : {}),
    ...(raw.link?.trim() ? { link: ctx.baseUrl } : {}),
    format: raw.format,
    entries,
  };
}
