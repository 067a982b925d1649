import { decodeHTML } from 'entities';

// One tag, attributes quoted or not. The quoted alternatives cannot overlap the unquoted run, so
// the pattern stays linear on hostile input (no nested quantifier over the same characters).
const TAG = /<\/?([A-Za-z][A-Za-z0-9]*)[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>/g;
/** Elements that separate words; other tags (a, b, i, span …) sit inside a word's flow. */
const BLOCK_ELEMENTS: ReadonlySet<string> = new Set(
  'address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr img li main nav ol p pre section table tbody td tfoot th thead tr ul'.split(
    ' ',
  ),
);
const DROPPED_ELEMENTS = /<(script|style|noscript|template|iframe|object|svg|math)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
const CDATA_MARKERS = /<!\[CDATA\[|\]\]>/g;
/** Markup that survives one decoding: the feed escaped its HTML twice (`&lt;p&gt;`). */
const ESCAPED_MARKUP =
  /<\/?(?:a|p|br|img|div|span|b|i|em|strong|u|ul|ol|li|h[1-6]|table|tr|td|blockquote|font|iframe|script|style|figure|figcaption|hr|pre|code|small|sup|sub)\b[^>]*>/i;

/** What {@link stripOnce} acts on: a tag, comment or CDATA start (all '<'), an entity, a CDATA end. */
const PLAIN_TEXT_MAY_CHANGE = /[<&]|\]\]>/;

function stripOnce(html: string): string {
  return decodeHTML(
    html
      .replace(CDATA_MARKERS, '')
      .replace(COMMENT, ' ')
      .replace(DROPPED_ELEMENTS, ' ')
      .replace(TAG, (_tag, name: string) => (BLOCK_ELEMENTS.has(name.toLowerCase()) ? ' ' : '')),
  );
}

/**
 * Turns an HTML fragment into plain text: scripts, styles and comments dropped, tags removed,
 * entities decoded, whitespace collapsed to single spaces. Feeds that escape their HTML twice
 * (`&lt;img …&gt;` inside CDATA, or `&amp;#39;` in Federal Register titles) get a second pass,
 * so no markup or entity leaks into the text the classifier reads.
 */
export function htmlToText(html: string): string {
  // Most titles, and many summaries, are plain text already: without '<', '&' or a CDATA end
  // there is nothing for either pass to remove or decode, only whitespace to collapse.
  if (!PLAIN_TEXT_MAY_CHANGE.test(html)) return html.replace(/[\s\u00a0\u200b\ufeff]+/g, ' ').trim();
  let text = stripOnce(html);
  if (ESCAPED_MARKUP.test(text) || /&(?:#\d+|#x[\da-f]+|[a-z][a-z\d]*);/i.test(text)) text = stripOnce(text);
  return text.replace(/[\s\u00a0\u200b\ufeff]+/g, ' ').trim();
}
