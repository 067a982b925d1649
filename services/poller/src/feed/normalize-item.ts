import { type FeedItem, FeedItemSchema } from '@regwatch/contracts';
import { canonicalUrl, linkFragment } from './canonical-url.js';
import { htmlToText } from './html-to-text.js';
import { itemId } from './item-id.js';
import { parseFeedDate } from './parse-date.js';
import type { RawItem } from './raw-feed.js';

/** FeedItemSchema's maxima, applied by cutting rather than by failing the item. */
const LIMITS = { guid: 2048, title: 2000, summary: 20_000, contentHtml: 100_000, author: 500, category: 200 } as const;
const MAX_CATEGORIES = 50;
/** A published date later than this past the fetch time is a feed bug (or a scheduled post) and is not believed. */
const MAX_FUTURE_MS = 2 * 24 * 3600 * 1000;
const EARLIEST = Date.UTC(1990, 0, 1);

export interface NormalizeContext {
  feedId: string;
  /** Base for relative links: the feed's home page when absolute, else the URL it was fetched from. */
  baseUrl: string;
  fetchedAt: Date;
  /** The feed's language, or the configured hint. */
  lang?: string;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max).trimEnd();
}

/** Cuts HTML without leaving half a tag at the end. */
function cutHtml(html: string, max: number): string {
  if (html.length <= max) return html;
  const head = html.slice(0, max);
  const open = head.lastIndexOf('<');
  return open > head.lastIndexOf('>') ? head.slice(0, open) : head;
}

/** Makes `href`, `src` and `poster` values absolute, so the HTML still works away from its site. */
export function resolveHtmlLinks(html: string, base: string): string {
  return html.replace(
    /(\s(?:href|src|poster)\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi,
    (match, prefix: string, dq?: string, sq?: string, bare?: string) => {
      const value = (dq ?? sq ?? bare ?? '').trim();
      if (value === '' || value.startsWith('#') || /^[a-z][a-z0-9+.-]*:/i.test(value)) return match;
      let absolute: string;
      try {
        absolute = new URL(value.replace(/&amp;/g, '&'), base).href;
      } catch {
        return match;
      }
      // URL serialisation percent-encodes quotes, so only `&` needs escaping inside the attribute.
      const quote = sq !== undefined ? "'" : '"';
      return `${prefix}${quote}${absolute.replace(/&/g, '&amp;')}${quote}`;
    },
  );
}

function normalizeLang(value: string | undefined): string | undefined {
  const lang = value?.trim();
  return lang && /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/.test(lang) && lang.length <= 16
    ? lang.replace(/_/g, '-')
    : undefined;
}

/**
 * Turns one raw item into a FeedItem, or `undefined` when the item has nothing to identify or
 * show (no guid, link, title or text: e.g. an Atom entry holding only an empty `<author>`).
 */
export function normalizeItem(raw: RawItem, ctx: NormalizeContext): FeedItem | undefined {
  return normalizeItemWithFragment(raw, ctx)?.item;
}

/**
 * {@link normalizeItem}, plus the fragment of the item's link (see `linkFragment`), which the
 * FeedItem's canonical `url` no longer carries. A guid-less item's id includes it, so entries
 * told apart only by `#anchor` stay apart.
 */
export function normalizeItemWithFragment(
  raw: RawItem,
  ctx: NormalizeContext,
): { item: FeedItem; fragment?: string } | undefined {
  return buildItem(raw, ctx, linkOf(raw, ctx.baseUrl));
}

/** One entry of a feed document: what the poller's dedupe needs at once, the FeedItem on demand. */
export interface FeedEntry {
  /** The FeedItem's `id`. */
  readonly id: string;
  /** The FeedItem's canonical `url`, when it has one. */
  readonly url?: string;
  /** The fragment of the entry's link (see `linkFragment`), which `url` no longer carries. */
  readonly fragment?: string;
  /**
   * True when `id`, `url` and `fragment` come from the entry's guid or link alone (and the feed's
   * id and base URL): the same element in the same feed gives the same ones at every poll. Not so
   * for an entry identified by title and date, whose date is judged against the fetch time.
   */
  readonly keyed?: boolean;
  /**
   * True for an entry of a previous poll's document that was not parsed again (see entry-memo.ts):
   * its identity is known, its `item()` is not and throws.
   */
  readonly remembered?: boolean;
  /** The normalized, schema-valid FeedItem; built on the first call, which may throw as `FeedItemSchema.parse` does. */
  item(): FeedItem;
}

/**
 * {@link normalizeItemWithFragment} in two steps: the entry's identity now, the rest of the
 * normalization (text, dates, HTML links, schema check) only when `item()` is called. A poll
 * throws most entries away as already seen, and their identity is a fraction of the work.
 * Identity by title and date (an entry with neither guid nor usable link), and telling whether
 * an entry normalizes to nothing at all, take the full normalization, which is then done here.
 * @returns `undefined` where `normalizeItemWithFragment` does.
 */
export function toFeedEntry(raw: RawItem, ctx: NormalizeContext): FeedEntry | undefined {
  const link = linkOf(raw, ctx.baseUrl);
  if (link.guid === undefined && link.url === undefined) {
    const normalized = buildItem(raw, ctx, link);
    if (normalized === undefined) return undefined;
    const { item } = normalized;
    return { id: item.id, item: () => item };
  }
  // A guid or a link decides the id alone (see itemId): title and date are not needed for it.
  const id = itemId({ guid: link.guid, link: link.url, fragment: link.fragment, feedId: ctx.feedId });
  let built: FeedItem | undefined;
  return {
    id,
    ...(link.url !== undefined ? { url: link.url } : {}),
    ...(link.fragment !== undefined ? { fragment: link.fragment } : {}),
    keyed: true,
    item: () => {
      // buildItem gives undefined only for items with neither guid nor url, handled above.
      built ??= buildItem(raw, ctx, link, id)!.item;
      return built;
    },
  };
}

/** An item's guid and link as normalization reads them: the part of an item that identifies it. */
interface ItemLink {
  guid?: string;
  /** The link as written (or the permalink guid standing in for it). */
  link?: string;
  /** `link` canonicalized; undefined when it is not an http(s) URL. */
  url?: string;
  fragment?: string;
}

function linkOf(raw: RawItem, baseUrl: string): ItemLink {
  const guid = raw.guid?.trim() || undefined;
  let link = raw.link?.trim() || undefined;
  // RSS 2.0: a guid is a permalink unless isPermaLink="false"; use it when there is no <link>.
  if (link === undefined && guid !== undefined && raw.guidIsPermaLink !== false && /^https?:\/\//i.test(guid)) {
    link = guid;
  }
  const url = link === undefined ? undefined : canonicalUrl(link, baseUrl);
  const fragment = url === undefined || link === undefined ? undefined : linkFragment(link, baseUrl);
  return { guid, link, url, fragment };
}

/** The rest of normalization, from the item's link; `id`, when given, is the one `itemId` gives for it. */
function buildItem(
  raw: RawItem,
  ctx: NormalizeContext,
  { guid, link, url, fragment }: ItemLink,
  id?: string,
): { item: FeedItem; fragment?: string } | undefined {
  const contentSource = raw.contentHtml ?? raw.summaryHtml;
  const summarySource = raw.summaryHtml ?? raw.contentHtml;
  const summary = cut(
    summarySource !== undefined ? htmlToText(summarySource) : (raw.contentText ?? '').replace(/\s+/g, ' ').trim(),
    LIMITS.summary,
  );
  let title = cut(htmlToText(raw.title ?? ''), LIMITS.title);
  if (guid === undefined && url === undefined && title === '' && summary === '') return undefined;
  if (title === '' && summary !== '') title = cut(summary, 120);

  const fetchedAt = ctx.fetchedAt.toISOString();
  let published: string | undefined;
  let rawDate: string | undefined;
  for (const candidate of raw.dates) {
    const date = parseFeedDate(candidate);
    if (date === undefined) continue;
    const ms = date.getTime();
    if (ms < EARLIEST || ms > ctx.fetchedAt.getTime() + MAX_FUTURE_MS) continue;
    published = date.toISOString();
    rawDate = candidate;
    break;
  }

  const categories = [
    ...new Set(raw.categories.map((c) => cut(htmlToText(c), LIMITS.category)).filter((c) => c !== '')),
  ].slice(0, MAX_CATEGORIES);
  const author = raw.author === undefined ? undefined : cut(htmlToText(raw.author), LIMITS.author) || undefined;
  const contentHtml =
    contentSource === undefined || contentSource.trim() === ''
      ? undefined
      : cutHtml(resolveHtmlLinks(contentSource.trim(), ctx.baseUrl), LIMITS.contentHtml);
  const lang = normalizeLang(raw.lang) ?? normalizeLang(ctx.lang);

  const item = {
    id: id ?? itemId({ guid, link: url ?? link, fragment, title, date: rawDate, feedId: ctx.feedId }),
    feedId: ctx.feedId,
    ...(guid !== undefined && guid.length <= LIMITS.guid ? { guid } : {}),
    ...(url !== undefined ? { url } : {}),
    title,
    summary,
    ...(contentHtml !== undefined ? { contentHtml } : {}),
    published: published ?? fetchedAt,
    publishedEstimated: published === undefined,
    fetchedAt,
    ...(lang !== undefined ? { lang } : {}),
    ...(author !== undefined ? { author } : {}),
    categories,
  };
  return { item: FeedItemSchema.parse(item), ...(fragment !== undefined ? { fragment } : {}) };
}
