import { type CheerioAPI, load } from 'cheerio';
import { feedParseError } from './feed-errors.js';

/**
 * The parts of a domhandler node the text walk reads. Typed structurally so the poller does not
 * depend on domhandler (cheerio's tree library) directly.
 */
interface DomNode {
  type: string;
  name?: string;
  data?: string;
  attribs?: Record<string, string>;
  children?: DomNode[];
}

/**
 * Elements that start a new line in the text of a region. Table cells do not (a row is one
 * line, its cells separated by spaces), list items and rows do.
 */
const BLOCK = new Set(
  'address article aside blockquote br dd div dl dt details dialog fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr legend li main nav ol p pre section summary table tbody thead tfoot tr ul caption'.split(
    ' ',
  ),
);
/** Never part of a page's text: code, embedded documents and markup for other renderers. */
const SKIPPED = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'iframe',
  'object',
  'embed',
  'svg',
  'math',
  'head',
]);

/**
 * Deeper than any real page (they stay under a few hundred). parse5 spends time quadratic in the
 * depth of open elements (each start tag searches that stack for a `<p>` in scope): measured on
 * one core, 5 000 nested `<div>`s took 0.46 s, 20 000 took 7.8 s and 40 000 took 41 s, so a 5 MiB
 * hostile page would block the event loop for hours.
 */
export const MAX_NESTING_DEPTH = 2500;

/** Elements that never hold others, or that the parser closes when a sibling starts: never nest. */
const NON_NESTING = new Set(
  'area base br col embed hr img input link meta param source track wbr p li dt dd tr td th option optgroup thead tbody tfoot rb rt rp'.split(
    ' ',
  ),
);

/**
 * The deepest run of start tags not yet closed, approximately, in one linear pass: tag names
 * only (attributes are not read), script/style/textarea contents and comments skipped.
 */
export function estimateNestingDepth(html: string): number {
  const TAG = /<(!--|\/?)([A-Za-z][A-Za-z0-9:-]*)?/g;
  let depth = 0;
  let max = 0;
  let m: RegExpExecArray | null = TAG.exec(html);
  while (m !== null) {
    const [, mark, rawName] = m;
    if (mark === '!--') {
      const end = html.indexOf('-->', TAG.lastIndex);
      if (end < 0) break;
      TAG.lastIndex = end + 3;
    } else if (rawName !== undefined) {
      const name = rawName.toLowerCase();
      if (mark === '/') depth = Math.max(0, depth - (NON_NESTING.has(name) ? 0 : 1));
      else if (name === 'script' || name === 'style' || name === 'textarea' || name === 'title') {
        const close = new RegExp(`</${name}`, 'gi');
        close.lastIndex = TAG.lastIndex;
        if (close.exec(html) === null) break;
        TAG.lastIndex = close.lastIndex;
      } else if (!NON_NESTING.has(name)) {
        depth++;
        if (depth > max) max = depth;
      }
    }
    m = TAG.exec(html);
  }
  return max;
}

/** A parsed page. Nothing in it runs: cheerio builds a tree, it has no script engine. */
export interface HtmlPage {
  $: CheerioAPI;
  /** Where relative links point: the page's `<base href>` resolved against its URL, else its URL. */
  baseUrl: string;
}

/**
 * Parses an HTML page with parse5 (the HTML spec's tree building, so selectors copied from a
 * browser's inspector match: `table > tbody > tr` even when the source has no `<tbody>`).
 */
export function loadHtmlPage(text: string, pageUrl: string): HtmlPage {
  const depth = estimateNestingDepth(text);
  if (depth > MAX_NESTING_DEPTH) {
    throw feedParseError(
      `not parsed: the page nests elements about ${depth} deep, more than the ${MAX_NESTING_DEPTH} allowed (parsing it would stall the poller)`,
    );
  }
  const $ = load(text);
  let baseUrl = pageUrl;
  const href = $('base[href]').first().attr('href')?.trim();
  if (href) {
    try {
      const resolved = new URL(href, pageUrl);
      if (resolved.protocol === 'http:' || resolved.protocol === 'https:') baseUrl = resolved.href;
    } catch {
      // a broken <base> is ignored, as browsers do
    }
  }
  return { $, baseUrl };
}

/** `a@href` → selector `a`, attribute `href`; `@href` (or `:scope@href`) → the element itself. */
export interface SelectorSpec {
  css: string;
  attr?: string;
}

/**
 * Splits `sel@attr`. Only a last `@` followed by an attribute name counts, so a selector with
 * `@` inside an attribute value (`a[href^="mailto:x@y"]`) is left whole.
 */
export function parseSelectorSpec(spec: string): SelectorSpec {
  const at = spec.lastIndexOf('@');
  if (at >= 0) {
    const attr = spec.slice(at + 1).trim();
    if (/^[A-Za-z_:][-A-Za-z0-9_:.]*$/.test(attr)) return { css: spec.slice(0, at).trim(), attr: attr.toLowerCase() };
  }
  return { css: spec.trim() };
}

/**
 * Runs a CSS selector; an invalid one is a parse error naming the config field, so a typo shows
 * up as the source's error rather than as silence.
 * @param field the config path to name, e.g. `selectors.item`.
 */
export function selectAll($: CheerioAPI, css: string, field: string, within?: unknown): DomNode[] {
  try {
    const found = within === undefined ? $(css) : $(within as never).find(css);
    return found.toArray() as unknown as DomNode[];
  } catch (err) {
    throw feedParseError(`${field}: invalid CSS selector "${css}": ${(err as Error).message}`, err);
  }
}

/**
 * The value a selector names inside `element`: an attribute (`a@href`) or the text (block
 * elements as line breaks, then collapsed to one line). `undefined` when nothing matches or the
 * value is empty.
 */
export function selectValue($: CheerioAPI, element: unknown, spec: string, field: string): string | undefined {
  const { css, attr } = parseSelectorSpec(spec);
  const target = css === '' || css === ':scope' ? (element as DomNode) : selectAll($, css, field, element)[0];
  if (target === undefined) return undefined;
  const value = attr !== undefined ? target.attribs?.[attr] : textLines(target).join(' ');
  const collapsed = value?.replace(/[\s\u00a0\u200b\ufeff]+/g, ' ').trim();
  return collapsed ? collapsed : undefined;
}

/**
 * The text of a region as lines: one per block element (paragraph, list item, table row,
 * heading, `<br>`), whitespace collapsed within each, empty lines dropped. Scripts, styles and
 * templates contribute nothing.
 */
export function textLines(root: unknown): string[] {
  const lines: string[] = [];
  let current = '';
  const breakLine = () => {
    const line = current.replace(/[\s\u00a0\u200b\ufeff]+/g, ' ').trim();
    if (line !== '') lines.push(line);
    current = '';
  };
  // An explicit stack, not recursion: a hostile page nests elements deeper than the call stack.
  type Step = { node: DomNode; exit: false } | { name: string; exit: true };
  const stack: Step[] = [{ node: root as DomNode, exit: false }];
  while (stack.length > 0) {
    const step = stack.pop()!;
    if (step.exit) {
      if (step.name === 'td' || step.name === 'th') current += ' ';
      if (BLOCK.has(step.name)) breakLine();
      continue;
    }
    const { node } = step;
    if (node.type === 'text') {
      current += node.data ?? '';
      continue;
    }
    if (node.type === 'script' || node.type === 'style' || node.type === 'comment' || node.type === 'directive')
      continue;
    const name = node.name?.toLowerCase() ?? '';
    if (SKIPPED.has(name)) continue;
    if (BLOCK.has(name)) breakLine();
    if (name === 'td' || name === 'th') current += ' ';
    stack.push({ name, exit: true });
    const children = node.children ?? [];
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, exit: false });
  }
  breakLine();
  return lines;
}
