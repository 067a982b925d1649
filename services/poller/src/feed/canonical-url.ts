/** Query parameters that only track the reader; dropping them makes one story one URL. */
const TRACKING_PARAMS: ReadonlySet<string> = new Set([
  'fbclid',
  'gclid',
  'gclsrc',
  'dclid',
  'gbraid',
  'wbraid',
  'msclkid',
  'yclid',
  'twclid',
  'ttclid',
  'igshid',
  'li_fat_id',
  'mc_cid',
  'mc_eid',
  '_hsenc',
  '_hsmi',
  'mkt_tok',
  'oly_anon_id',
  'oly_enc_id',
  'rb_clickid',
  'vero_id',
  'wickedid',
  'ns_campaign',
  'ns_mchannel',
  'ns_source',
  'ns_linkname',
  'ns_fee',
  'cmpid',
  'at_medium',
  'at_campaign',
]);

const MAX_URL_LENGTH = 4096;

function isTrackingParam(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith('utm_') || TRACKING_PARAMS.has(lower);
}

function decodeParamName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name; // a malformed escape is kept as written
  }
}

/**
 * The canonical form of an item link: absolute http(s), lower-case host without a trailing dot,
 * no default port, no credentials, no fragment, no tracking parameters (`utm_*`, `fbclid`,
 * `gclid`, `mc_eid` …). Other parameters keep their order. Returns `undefined` for anything that
 * is not an http(s) URL (`mailto:`, `javascript:`, garbage) or is longer than 4 096 characters.
 * @param base resolves a relative `url` (the feed's address or home page).
 */
export function canonicalUrl(url: string, base?: string): string | undefined {
  const trimmed = url.trim();
  if (trimmed === '') return undefined;
  let parsed: URL;
  try {
    parsed = base === undefined ? new URL(trimmed) : new URL(trimmed, base);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  if (parsed.hostname === '') return undefined;
  if (parsed.hostname.endsWith('.')) parsed.hostname = parsed.hostname.slice(0, -1);
  // Every URL setter re-parses the whole URL, and this runs for each entry of every poll: a part
  // is cleared only when there is one. A raw `#` or `?` in an http(s) href can only start the
  // fragment or the query (path, credentials and host have them percent-encoded or refused), and
  // the fragment goes first, so `?` then means a query, even a lone one that `search` reads as ''.
  if (parsed.href.includes('#')) parsed.hash = '';
  if (parsed.username !== '') parsed.username = '';
  if (parsed.password !== '') parsed.password = '';
  const search = parsed.search;
  if (search !== '' || parsed.href.includes('?')) {
    // Rebuilt by hand rather than with URLSearchParams.toString(), which would re-encode every
    // untouched parameter (e.g. `%20` → `+`) and so change URLs that had nothing to strip.
    const kept = search
      .slice(1)
      .split('&')
      .filter((pair) => pair !== '' && !isTrackingParam(decodeParamName(pair.split('=')[0] ?? '')));
    const next = kept.length > 0 ? `?${kept.join('&')}` : '';
    // An unchanged query is left alone: it is serialized already, and setting it again is a no-op.
    if (next !== search || next === '') parsed.search = next;
  }
  const href = parsed.href;
  return href.length > MAX_URL_LENGTH ? undefined : href;
}

/** Fragments that only track the reader (AT Internet's `#xtor=RSS-1`, `#utm_…`), not a place in the page. */
const TRACKING_FRAGMENT = /^(?:xtor=|utm_|at_medium=|at_campaign=)/i;
/** Places every page has (`#comments` of a blog post); they tell no two items apart. */
const GENERIC_FRAGMENT = /^(?:comments?|respond|more|top|content|main)$/i;

/**
 * The fragment of an item link when it names a place in the page (`#comment-42`, `#a1`), without
 * the `#`; `undefined` for none, an empty, a tracking or a generic one (`#comments`). `canonicalUrl` drops fragments
 * so one story is one URL across feeds; this keeps what tells apart several items that share a
 * page (a comments feed, a notices page with one anchor per notice).
 */
export function linkFragment(url: string, base?: string): string | undefined {
  if (!url.includes('#')) return undefined; // most links: no second URL parse per item
  let parsed: URL;
  try {
    parsed = base === undefined ? new URL(url.trim()) : new URL(url.trim(), base);
  } catch {
    return undefined;
  }
  const fragment = parsed.hash.slice(1);
  if (fragment === '' || fragment.length > 512) return undefined;
  if (TRACKING_FRAGMENT.test(fragment) || GENERIC_FRAGMENT.test(fragment)) return undefined;
  return fragment;
}
