import { createHash } from 'node:crypto';
import { type FeedItem, FeedItemSchema, type PageFeedSource } from '@regwatch/contracts';
import { canonicalUrl } from './canonical-url.js';
import { decodeHtmlDocument } from './decode-text.js';
import { feedParseError } from './feed-errors.js';
import { loadHtmlPage, selectAll, textLines } from './html-dom.js';
import type { ParsedFeed, ParseFeedOptions } from './parse-feed.js';

/** The region text kept between polls: enough for an entity-list supplement, bounded in Redis. */
export const MAX_PAGE_TEXT_CHARS = 256 * 1024;
const MAX_PAGE_BYTES = 16 * 1024 * 1024;
/** Lines listed per side in a change's summary; the counts in the title are always complete. */
const MAX_DIFF_LINES = 200;

/** What a page source's baseline is of: a new URL or selector starts a new baseline. */
export function pageBaselineKey(source: Pick<PageFeedSource, 'url' | 'selector'>): string {
  return `${source.url}\n${source.selector}`;
}

/**
 * The text of the region `source.selector` names (its first match), one line per block
 * element, capped at {@link MAX_PAGE_TEXT_CHARS} on a line boundary.
 * @throws PermanentError `FEED_PARSE` when the selector matches nothing: a page whose layout
 * changed must show as broken, not as "every line removed".
 */
export function readPageRegion(body: Buffer, source: Pick<PageFeedSource, 'selector'>, opts: ParseFeedOptions): string {
  if (body.length === 0) throw feedParseError('not an HTML page: the response body is empty');
  if (body.length > MAX_PAGE_BYTES) {
    throw feedParseError(`not an HTML page: ${body.length} bytes is more than the ${MAX_PAGE_BYTES}-byte limit`);
  }
  const { text } = decodeHtmlDocument(body, opts.contentType);
  const { $ } = loadHtmlPage(text, opts.baseUrl);
  const region = selectAll($, source.selector, 'selector')[0];
  if (region === undefined) throw feedParseError(`selector: "${source.selector}" matches nothing on the page`);
  let out = '';
  for (const line of textLines(region)) {
    if (out.length + line.length + 1 > MAX_PAGE_TEXT_CHARS) break;
    out += out === '' ? line : `\n${line}`;
  }
  return out;
}

export interface LineDiff {
  added: string[];
  removed: string[];
}

/**
 * Lines added and removed between two texts, each line counted as often as it occurs. Order is
 * ignored: a list re-sorted on the page is not a change, which is what a reader of an entity
 * list wants to hear about.
 */
export function diffLines(before: string, after: string): LineDiff {
  const counts = new Map<string, number>();
  const split = (t: string) => (t === '' ? [] : t.split('\n'));
  for (const line of split(before)) counts.set(line, (counts.get(line) ?? 0) + 1);
  const added: string[] = [];
  for (const line of split(after)) {
    const n = counts.get(line) ?? 0;
    if (n > 0) counts.set(line, n - 1);
    else added.push(line);
  }
  const removed: string[] = [];
  for (const line of split(before)) {
    const n = counts.get(line) ?? 0;
    if (n > 0) {
      removed.push(line);
      counts.set(line, n - 1);
    }
  }
  return { added, removed };
}

/** "Added:\n+ line\nRemoved:\n- line", at most {@link MAX_DIFF_LINES} lines a side. */
export function formatDiff(diff: LineDiff): string {
  const side = (label: string, mark: string, lines: string[]) => {
    if (lines.length === 0) return [];
    const shown = lines.slice(0, MAX_DIFF_LINES).map((l) => `${mark} ${l}`);
    if (lines.length > MAX_DIFF_LINES) shown.push(`… and ${lines.length - MAX_DIFF_LINES} more`);
    return [`${label}:`, ...shown];
  };
  return [...side('Added', '+', diff.added), ...side('Removed', '-', diff.removed)].join('\n');
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A page source's poll: the region's text against the last one kept (`previous`).
 *  - No baseline (first poll, or the URL/selector changed): no item; the text becomes the baseline.
 *  - Same text: no item.
 *  - Changed: one item, titled "<title>: page changed (+3 −1 lines)", its summary the diff, its
 *    url the page; its id a hash of the previous and the new text, so the same change re-polled
 *    is the same item and a page that flips back and forth alerts each time.
 * `pageBaseline` in the result is the text to keep once the item is queued (absent: keep the old).
 */
export function parsePageSource(
  body: Buffer,
  source: Pick<PageFeedSource, 'id' | 'url' | 'selector' | 'title'>,
  opts: ParseFeedOptions,
  previous: { of: string; text: string } | undefined,
): ParsedFeed {
  const text = readPageRegion(body, source, opts);
  const of = pageBaselineKey(source);
  const base: ParsedFeed = { link: opts.baseUrl, format: 'page', items: [], fragments: {} };
  if (previous === undefined || previous.of !== of) return { ...base, pageBaseline: { of, text } };
  if (previous.text === text) return base;
  const diff = diffLines(previous.text, text);
  // Only whitespace or order changed: nothing a reader would see; keep the new text quietly.
  if (diff.added.length === 0 && diff.removed.length === 0) return { ...base, pageBaseline: { of, text } };
  const change = sha(`${sha(previous.text)}\u0000${text}`);
  const fetchedAt = opts.fetchedAt.toISOString();
  const url = canonicalUrl(source.url);
  const item: FeedItem = FeedItemSchema.parse({
    id: `i${change.slice(0, 24)}`,
    feedId: opts.feedId,
    ...(url ? { url } : {}),
    title:
      `${source.title ?? source.id}: page changed (+${diff.added.length} \u2212${diff.removed.length} lines)`.slice(
        0,
        2000,
      ),
    summary: formatDiff(diff).slice(0, 20_000),
    published: fetchedAt,
    publishedEstimated: false,
    fetchedAt,
    ...(opts.lang ? { lang: opts.lang } : {}),
    categories: [],
  });
  return {
    ...base,
    items: [item],
    // Every change links to the same page; a fragment of its own keeps the poller's URL dedupe
    // from taking the second change for the first.
    fragments: { [item.id]: `regwatch-change-${change.slice(0, 16)}` },
    pageBaseline: { of, text },
  };
}
