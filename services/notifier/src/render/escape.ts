const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

// C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional controls that can make
// a subject read differently from what it contains (Trojan Source, CVE-2021-42574).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE_IN_HEADER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/**
 * Makes feed text safe for a one-line header such as Subject: control characters (CR and LF above
 * all, which would start a new header) become spaces, runs of spaces collapse, and the result is
 * cut to `maxChars` code points with an ellipsis, never inside a surrogate pair.
 */
export function sanitizeHeaderText(text: string, maxChars: number): string {
  return truncate(oneLine(text), maxChars);
}

/** Feed text for one line of a plain-text body: controls and line breaks become single spaces. */
export function oneLine(text: string): string {
  return text.replace(UNSAFE_IN_HEADER, ' ').replace(/\s+/g, ' ').trim();
}

/** Cuts to at most `maxChars` code points, adding `…` when something was cut. */
export function truncate(text: string, maxChars: number): string {
  const points = Array.from(text);
  if (points.length <= maxChars) return text;
  return `${points
    .slice(0, Math.max(0, maxChars - 1))
    .join('')
    .trimEnd()}…`;
}

/**
 * The URL if it is an absolute http(s) URL, normalized by the URL parser, else null: feeds can
 * carry `javascript:` or `data:` links, which must never become an href.
 */
export function safeHttpUrl(value: string | undefined): string | null {
  if (value === undefined) return null;
  try {
    const url = new URL(value.trim());
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return null;
    return url.href;
  } catch {
    return null;
  }
}
