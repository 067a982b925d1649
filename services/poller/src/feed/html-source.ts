import type { FeedItem, HtmlFeedSource } from '@regwatch/contracts';
import { decodeHtmlDocument } from './decode-text.js';
import { feedParseError } from './feed-errors.js';
import { loadHtmlPage, selectAll, selectValue } from './html-dom.js';
import { normalizeItemWithFragment } from './normalize-item.js';
import { parseFeedDate } from './parse-date.js';
import type { ParsedFeed, ParseFeedOptions } from './parse-feed.js';

/** Entries read from one list page; a page with more is cut, not refused. */
export const MAX_HTML_ITEMS = 500;
/** Far above the fetch cap; a guard for callers that hand in bytes from elsewhere. */
const MAX_PAGE_BYTES = 16 * 1024 * 1024;

/** `&`, `<` and `>` escaped, so normalization (which reads titles as HTML) keeps the text as it is. */
function asHtmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const TOKEN = /YYYY|YY|MM|M|DD|D|HH|H|mm|ss/g;
const TOKEN_PATTERN: Record<string, string> = {
  YYYY: '(\\d{4})',
  YY: '(\\d{2})',
  MM: '(\\d{1,2})',
  M: '(\\d{1,2})',
  DD: '(\\d{1,2})',
  D: '(\\d{1,2})',
  HH: '(\\d{1,2})',
  H: '(\\d{1,2})',
  mm: '(\\d{2})',
  ss: '(\\d{2})',
};

/**
 * Reads a date written in `format` anywhere in `text` (`发布时间：2025年10月9日` with
 * `YYYY年M月D日`). Tokens: `YYYY`/`YY`, `MM`/`M`, `DD`/`D`, `HH`/`H`, `mm`, `ss`; `MM` and `DD`
 * accept one digit too. A date without a zone is read as UTC, as the feed parser does.
 * @returns an ISO 8601 string, or `undefined` when the text holds no such date.
 */
export function parseDateWithFormat(text: string, format: string): string | undefined {
  const order: string[] = [];
  let pattern = '';
  let last = 0;
  for (const m of format.matchAll(TOKEN)) {
    pattern += escapeRegExp(format.slice(last, m.index)).replace(/\\? /g, '\\s*');
    pattern += TOKEN_PATTERN[m[0]];
    order.push(m[0]);
    last = m.index + m[0].length;
  }
  pattern += escapeRegExp(format.slice(last)).replace(/\\? /g, '\\s*');
  const match = new RegExp(`(?<!\\d)${pattern}(?!\\d)`).exec(text);
  if (!match) return undefined;
  const parts: Record<string, number> = {};
  order.forEach((token, i) => {
    parts[token[0] === 'm' ? 'mi' : token[0]!] = Number(match[i + 1]);
  });
  let year = parts['Y'] ?? Number.NaN;
  if (year < 100) year += year < 50 ? 2000 : 1900;
  const month = parts['M'] ?? Number.NaN;
  const day = parts['D'] ?? Number.NaN;
  const ms = Date.UTC(year, month - 1, day, parts['H'] ?? 0, parts['mi'] ?? 0, parts['s'] ?? 0);
  const date = new Date(ms);
  // 2025-02-30 must not become 2 March.
  if (Number.isNaN(ms) || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return date.toISOString();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Without a `dateFormat`: the feed parser's formats (ISO 8601, RFC 822, `March 3, 2025`), else
 * the first `2025-10-09`, `2025/10/09`, `2025.10.09` or `2025年10月9日` in the text.
 */
function guessDate(text: string): string | undefined {
  const direct = parseFeedDate(text);
  if (direct !== undefined) return direct.toISOString();
  const m = /(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)/.exec(text);
  if (!m) return undefined;
  return parseDateWithFormat(`${m[1]}-${m[2]}-${m[3]}`, 'YYYY-M-D');
}

/**
 * Reads a list page into items with the source's selectors: one item per `selectors.item`
 * match, its title, link (resolved against `<base href>` or the page URL), date and summary
 * looked up inside it. Entries without a title or a link are skipped; a selector that matches
 * nothing yields no items (the source's health shows a page that stopped yielding). Item ids
 * come from the canonical link, so a re-poll yields the same ids.
 *
 * @throws PermanentError `FEED_PARSE` for an empty body or an invalid CSS selector.
 */
export function parseHtmlList(body: Buffer, source: HtmlFeedSource, opts: ParseFeedOptions): ParsedFeed {
  if (body.length === 0) throw feedParseError('not an HTML page: the response body is empty');
  if (body.length > MAX_PAGE_BYTES) {
    throw feedParseError(`not an HTML page: ${body.length} bytes is more than the ${MAX_PAGE_BYTES}-byte limit`);
  }
  const { text } = decodeHtmlDocument(body, opts.contentType);
  const { $, baseUrl } = loadHtmlPage(text, opts.baseUrl);
  const { selectors } = source;
  const items: FeedItem[] = [];
  const fragments: Record<string, string> = {};
  const ids = new Set<string>();
  for (const entry of selectAll($, selectors.item, 'selectors.item')) {
    if (items.length >= MAX_HTML_ITEMS) break;
    const title = selectValue($, entry, selectors.title, 'selectors.title');
    const link = selectValue($, entry, selectors.link, 'selectors.link');
    if (title === undefined || link === undefined || /^(?:javascript|data|vbscript):/i.test(link)) continue;
    const dateText = selectors.date ? selectValue($, entry, selectors.date, 'selectors.date') : undefined;
    const summary = selectors.summary ? selectValue($, entry, selectors.summary, 'selectors.summary') : undefined;
    const date =
      dateText === undefined
        ? undefined
        : source.dateFormat
          ? parseDateWithFormat(dateText, source.dateFormat)
          : guessDate(dateText);
    const normalized = normalizeItemWithFragment(
      {
        link,
        title: asHtmlText(title),
        ...(summary !== undefined ? { summaryHtml: asHtmlText(summary) } : {}),
        dates: [date],
        categories: [],
      },
      { feedId: opts.feedId, baseUrl, fetchedAt: opts.fetchedAt, ...(opts.lang ? { lang: opts.lang } : {}) },
    );
    // A link that is not http(s) after resolution (mailto:, a broken URL) identifies nothing.
    if (normalized === undefined || normalized.item.url === undefined || ids.has(normalized.item.id)) continue;
    ids.add(normalized.item.id);
    items.push(normalized.item);
    if (normalized.fragment !== undefined) fragments[normalized.item.id] = normalized.fragment;
  }
  const title = $('title').first().text().replace(/\s+/g, ' ').trim();
  return { ...(title ? { title } : {}), link: opts.baseUrl, format: 'html', items, fragments };
}
