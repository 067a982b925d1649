/** A feed item as read from any format, before normalization into a FeedItem. */
export interface RawItem {
  guid?: string;
  /** When false, the guid is not a URL to use as a link (RSS `isPermaLink="false"`). */
  guidIsPermaLink?: boolean;
  link?: string;
  title?: string;
  /** Short HTML or text (RSS description, Atom summary, JSON Feed summary). */
  summaryHtml?: string;
  /** Full HTML (content:encoded, Atom content, JSON Feed content_html). */
  contentHtml?: string;
  /** Plain-text content when a format has one (JSON Feed content_text). */
  contentText?: string;
  /** Date candidates, best first; the first parseable one wins. */
  dates: Array<string | undefined>;
  author?: string;
  categories: string[];
  lang?: string;
}

/** The document a source gave: a feed format, or what a non-feed source type read. */
export type FeedFormat = 'rss' | 'atom' | 'rdf' | 'jsonfeed' | 'html' | 'federalregister' | 'page';

export interface RawFeed {
  format: FeedFormat;
  title?: string;
  link?: string;
  lang?: string;
  items: RawItem[];
}

/** The text of a value from xml2js or JSON: a string, `{ _: text }`, `{ '#value': text }` or the first of an array. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return textOf(value[0]);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record['_'] === 'string') return record['_'];
    if (typeof record['#value'] === 'string') return record['#value'];
  }
  return undefined;
}
