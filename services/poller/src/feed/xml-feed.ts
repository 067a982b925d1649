import { createRequire } from 'node:module';
import { decodeHTML } from 'entities';

import type RssParser = require('rss-parser');

import { feedParseError } from './feed-errors.js';
import { type FeedFormat, type RawFeed, type RawItem, textOf } from './raw-feed.js';

// rss-parser is CommonJS with `export =` typings; this package's tsconfig has no synthetic
// default imports, so it is loaded through require.
const require = createRequire(import.meta.url);
const Parser = require('rss-parser') as typeof RssParser;
// Its helpers and field table (lib/ of the pinned 3.13.0), for SafeParser.parseItemRss.
const { getContent } = require('rss-parser/lib/utils.js') as { getContent(node: unknown): unknown };
const { item: RSS_ITEM_FIELDS } = require('rss-parser/lib/fields.js') as { item: readonly unknown[] };

/** Items beyond this are dropped: feeds list newest first, and a poll needs only the recent ones. */
export const MAX_ITEMS = 1_000;

type XmlNode = Record<string, unknown>;

interface ParserInternals {
  parseString(xml: string): Promise<Record<string, unknown> & { items: XmlNode[] }>;
  parseItemAtom(entry: XmlNode): XmlNode;
  parseItemRss(xmlItem: XmlNode, itemFields: readonly unknown[]): XmlNode;
  setISODate(item: XmlNode): void;
}

const ParserBase = Parser as unknown as new (options: RssParser.ParserOptions<XmlNode, XmlNode>) => ParserInternals;

/**
 * rss-parser 3.13 calls `new Date(published).toISOString()` on Atom dates without a guard, so one
 * entry with a bad date ("yesterday") rejects the whole feed with "Invalid time value". Bad dates
 * are hidden from it and handed back raw; our own date handling decides what they are worth.
 */
class SafeParser extends ParserBase {
  override parseItemAtom(entry: XmlNode): XmlNode {
    const safe: XmlNode = { ...entry };
    const raw: Record<string, string | undefined> = {};
    for (const key of ['published', 'updated']) {
      const value = textOf(safe[key]);
      raw[key] = value;
      if (value !== undefined && Number.isNaN(new Date(value).getTime())) delete safe[key];
    }
    const item = super.parseItemAtom(safe);
    item['atomPublished'] = raw['published'];
    item['atomUpdated'] = raw['updated'];
    return item;
  }

  /**
   * rss-parser adds `isoDate` to every item with a `new Date(…).toISOString()` (and a swallowed
   * exception for each bad date). Nothing here reads it: `toRawItem` takes the raw date fields
   * and normalization parses them itself, so the work (≈2 % of a poll) is skipped.
   */
  override setISODate(): void {}

  /**
   * rss-parser's RSS item with two snippets left out: `contentSnippet` (from `<description>`) and
   * `content:encodedSnippet`, each the HTML stripped by regular expressions and its entities
   * decoded. Nothing here reads them (`toRawItem` takes the HTML and normalization makes its own
   * text), and they cost more than the rest of the item. Everything else is rss-parser's own:
   * its field table (less the `includeSnippet` flag) and `getContent` for the description.
   */
  override parseItemRss(xmlItem: XmlNode): XmlNode {
    const { description, ...rest } = xmlItem;
    const item = super.parseItemRss(rest, ITEM_FIELDS);
    if (Array.isArray(description) && description.length > 0) item['content'] = getContent(description[0]);
    return item;
  }
}

/** Raw arrays keep the attributes rss-parser drops: isPermaLink, Atom's category term. */
const CUSTOM_ITEM_FIELDS = [
  ['guid', 'rawGuid', { keepArray: true }],
  ['category', 'rawCategories', { keepArray: true }],
];

/** What rss-parser's buildRSS hands parseItemRss (its table, then ours), without `includeSnippet`. */
const ITEM_FIELDS: readonly unknown[] = [...RSS_ITEM_FIELDS, ...CUSTOM_ITEM_FIELDS].map((field) =>
  Array.isArray(field) && (field[2] as { includeSnippet?: boolean } | undefined)?.includeSnippet
    ? [field[0], field[1], { ...field[2], includeSnippet: false }]
    : field,
);

const XML_ENTITIES: ReadonlySet<string> = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

/**
 * An `&` that `repairEntities` would rewrite: anything but a numeric reference or one of XML's
 * five entities, spelt as `fix` matches them (`&#1234567;` yes, `&#12345678;` no).
 */
const NEEDS_REPAIR = /&(?!#x[0-9a-fA-F]{1,6};|#[0-9]{1,7};|(?:amp|lt|gt|quot|apos);)/;

/**
 * Makes text outside CDATA sections and comments acceptable to a strict XML parser: a bare `&`
 * (`AT&T`) becomes `&amp;`, and an HTML entity XML does not know (`&eacute;`, `&hellip;`) becomes a
 * numeric reference. Entities are resolved from the fixed HTML table only, never from the
 * document, so nothing here can expand.
 */
function repairEntities(text: string): string {
  // Most feeds need nothing: every `&` already starts a reference `fix` keeps as it is. One scan
  // then stands for the CDATA split and a callback per reference.
  if (!NEEDS_REPAIR.test(text)) return text;
  const fix = (segment: string) =>
    segment.replace(/&(#x[0-9a-fA-F]{1,6};|#[0-9]{1,7};|[A-Za-z][A-Za-z0-9]{0,31};)?/g, (match, ref?: string) => {
      if (ref === undefined) return '&amp;';
      if (ref.startsWith('#')) return match;
      const name = ref.slice(0, -1);
      if (XML_ENTITIES.has(name)) return match;
      const decoded = decodeHTML(match);
      if (decoded === match) return `&amp;${ref}`;
      return Array.from(decoded, (ch) => `&#${ch.codePointAt(0)};`).join('');
    });
  let out = '';
  let last = 0;
  for (const m of text.matchAll(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g)) {
    out += fix(text.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + fix(text.slice(last));
}

/** A document {@link prepareXml} made ready for the parser. */
export interface PreparedXml {
  xml: string;
  /** The root element's name (`rss`, `feed`, `rdf:RDF`). */
  root: string;
  /** Atom's `xml:lang` on the root, which rss-parser does not report. */
  rootLang?: string;
}

/**
 * Cleans what commonly breaks strict parsers in real feeds: leading whitespace, a BOM, bare CR
 * line endings, control characters, the XML declaration (its encoding no longer applies, the text
 * is decoded already) and other leading processing instructions such as the `<?phpxml …?>` of a
 * broken PHP template. Refuses entity declarations (billion laughs) and HTML documents.
 * @returns the text and the name of its root element.
 */
export function prepareXml(decoded: string): PreparedXml {
  let text = decoded
    .replace(/^\ufeff/, '')
    .replace(/\r\n?/g, '\n')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping characters XML 1.0 forbids
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .trimStart();
  // Leading processing instructions: the declaration, stylesheets, bogus "<?phpxml ?>" headers.
  while (text.startsWith('<?')) {
    const end = text.indexOf('?>');
    if (end === -1) throw feedParseError('not a feed: an unterminated <? processing instruction at the start');
    text = text.slice(end + 2).trimStart();
  }
  // Skip comments and a doctype to find the root element.
  let pos = 0;
  for (;;) {
    while (pos < text.length && /\s/.test(text[pos]!)) pos += 1;
    if (text.startsWith('<!--', pos)) {
      const end = text.indexOf('-->', pos + 4);
      if (end === -1) throw feedParseError('malformed XML: an unterminated comment before the root element');
      pos = end + 3;
      continue;
    }
    if (text.slice(pos, pos + 9).toUpperCase() === '<!DOCTYPE') {
      const end = findDoctypeEnd(text, pos);
      const doctype = text.slice(pos, end);
      if (/<!ENTITY/i.test(doctype)) throw feedParseError('XML entity declarations are not allowed');
      if (/^<!DOCTYPE\s+html\b/i.test(doctype)) throw feedParseError('not a feed: got an HTML document');
      // The doctype is dropped: the parser must never see (or fetch) a DTD.
      text = text.slice(0, pos) + text.slice(end);
      continue;
    }
    break;
  }
  const rootMatch = /^<([A-Za-z_][\w.:-]*)/.exec(text.slice(pos, pos + 256));
  if (rootMatch === null) {
    const start = text.slice(pos, pos + 20).replace(/\s+/g, ' ');
    throw feedParseError(
      text.trim() === ''
        ? 'not a feed: the document is empty'
        : `not a feed: expected XML or JSON, the document starts with ${JSON.stringify(start)}`,
    );
  }
  const root = rootMatch[1]!;
  if (/^(html|head|body)$/i.test(root)) throw feedParseError('not a feed: got an HTML document');
  // Atom puts the language on the root as xml:lang; rss-parser does not report attributes.
  const rootTag = text.slice(pos, text.indexOf('>', pos) + 1 || pos + 4096);
  const rootLang = /\sxml:lang\s*=\s*["']([^"']{1,16})["']/.exec(rootTag)?.[1];
  return { xml: repairEntities(text), root, ...(rootLang ? { rootLang } : {}) };
}

/** The end of `<!DOCTYPE … [ internal subset ] >`, skipping quoted strings inside the subset. */
function findDoctypeEnd(text: string, start: number): number {
  let inSubset = false;
  let quote = '';
  for (let i = start + 9; i < text.length; i += 1) {
    const ch = text[i];
    if (quote !== '') {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '[') {
      inSubset = true;
    } else if (ch === ']') {
      inSubset = false;
    } else if (ch === '>' && !inSubset) {
      return i + 1;
    }
  }
  throw feedParseError('malformed XML: an unterminated <!DOCTYPE');
}

function formatOf(root: string): FeedFormat {
  const local = root.includes(':') ? root.slice(root.indexOf(':') + 1) : root;
  if (root === 'rss') return 'rss';
  if (root === 'feed') return 'atom';
  if (local === 'RDF') return 'rdf';
  throw feedParseError(`not a feed: the root element is <${root}>, not <rss>, <feed> or <rdf:RDF>`);
}

/** "Unexpected close tag\nLine: 4\nColumn: 9\nChar: >" → "Unexpected close tag at line 5, column 9". */
function describeXmlError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^(.*)\nLine: (\d+)\nColumn: (\d+)/.exec(message);
  if (m === null) return message.split('\n')[0] ?? message;
  return `${m[1]} at line ${Number(m[2]) + 1}, column ${m[3]}`;
}

function categoriesOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const entry of value) {
    const text =
      textOf(entry) ??
      textOf((entry as { $?: Record<string, unknown> } | null)?.$?.['label']) ??
      textOf((entry as { $?: Record<string, unknown> } | null)?.$?.['term']);
    if (text !== undefined) out.push(text);
  }
  return out;
}

function guidOf(value: unknown): { guid?: string; isPermaLink?: boolean } {
  const node = Array.isArray(value) ? value[0] : value;
  const guid = textOf(node);
  const attr = (node as { $?: Record<string, unknown> } | null)?.$?.['isPermaLink'];
  return { guid, isPermaLink: typeof attr === 'string' ? attr.trim().toLowerCase() !== 'false' : undefined };
}

/** "jane@example.com (Jane Doe)" → "Jane Doe"; RSS <author> is an e-mail address by spec. */
function authorOf(...candidates: unknown[]): string | undefined {
  for (const candidate of candidates) {
    const text = textOf(candidate)?.trim();
    if (!text) continue;
    const named = /^\S+@\S+\s*\(([^)]+)\)$/.exec(text);
    return named ? named[1]!.trim() : text;
  }
  return undefined;
}

function toRawItem(item: XmlNode, format: FeedFormat): RawItem {
  const { guid, isPermaLink } = guidOf(item['rawGuid']);
  const atomId = format === 'atom' ? textOf(item['id']) : undefined;
  const rdfAbout = textOf(item['rdf:about']);
  return {
    guid: guid ?? atomId ?? rdfAbout,
    guidIsPermaLink: isPermaLink,
    link: textOf(item['link']),
    title: textOf(item['title']),
    summaryHtml: textOf(item['summary']) ?? (format === 'atom' ? undefined : textOf(item['content'])),
    contentHtml: textOf(item['content:encoded']) ?? (format === 'atom' ? textOf(item['content']) : undefined),
    dates: [
      textOf(item['atomPublished']),
      textOf(item['pubDate']),
      textOf(item['dc:date']),
      textOf(item['date']),
      textOf(item['atomUpdated']),
    ],
    author: authorOf(item['creator'], item['dc:creator'], item['author']),
    categories: categoriesOf(item['rawCategories']),
    lang: textOf(item['language']),
  };
}

/**
 * Parses RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom 1.0 text with rss-parser's `parseString` (never
 * `parseURL`: all network access goes through @regwatch/outbound).
 */
export async function parseXmlFeed(decoded: string): Promise<RawFeed> {
  return parsePreparedXml(prepareXml(decoded));
}

/** {@link parseXmlFeed} of a document {@link prepareXml} has prepared. */
export async function parsePreparedXml({ xml, root, rootLang }: PreparedXml): Promise<RawFeed> {
  const format = formatOf(root);
  // A new parser per document: xml2js parsers keep state, and one that failed is not reusable.
  const parser = new SafeParser({
    defaultRSS: 2, // `<rss>` without a version attribute (uol.com.br) is read as RSS 2.0
    customFields: { item: CUSTOM_ITEM_FIELDS as never },
  });
  let parsed: Awaited<ReturnType<ParserInternals['parseString']>>;
  try {
    parsed = await parser.parseString(xml);
  } catch (err) {
    if (err instanceof RangeError) throw feedParseError('malformed XML: the document is nested too deeply', err);
    if (err instanceof TypeError) {
      throw feedParseError(`not a feed: <${root}> lacks the elements a ${format} feed must have`, err);
    }
    throw feedParseError(`malformed XML: ${describeXmlError(err)}`, err);
  }
  const items = (Array.isArray(parsed.items) ? parsed.items : []).slice(0, MAX_ITEMS);
  return {
    format,
    title: textOf(parsed['title']),
    link: textOf(parsed['link']),
    lang: textOf(parsed['language'])?.trim() || rootLang,
    items: items.map((item) => toRawItem(item, format)),
  };
}
