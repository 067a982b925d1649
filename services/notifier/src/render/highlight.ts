import type { Evidence } from '@regwatch/contracts';
import { escapeHtml } from './escape.js';

/** Evidence kinds that explain why a story was flagged; `negative` matches argue against it and are not marked. */
const MARKED_KINDS: ReadonlySet<Evidence['kind']> = new Set(['topic', 'jurisdiction', 'entity', 'context', 'watch']);

export interface Span {
  start: number;
  end: number;
}

/**
 * The spans of `text` the evidence points at, sorted and merged where they overlap. Evidence whose
 * offsets do not reproduce its own `text` (it was computed on another version of the field) is
 * dropped rather than marking the wrong words.
 */
export function evidenceSpans(text: string, field: Evidence['field'], evidence: readonly Evidence[]): Span[] {
  const spans = evidence
    .filter(
      (e) =>
        e.field === field &&
        MARKED_KINDS.has(e.kind) &&
        e.start >= 0 &&
        e.start < e.end &&
        e.end <= text.length &&
        text.slice(e.start, e.end) === e.text,
    )
    .map((e) => ({ start: e.start, end: e.end }))
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: Span[] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  return merged;
}

/** Where to cut `text` near `limit` UTF-16 units without splitting a surrogate pair. */
function cutPoint(text: string, limit: number): number {
  if (limit >= text.length) return text.length;
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

/**
 * HTML for `text` with the evidence spans wrapped in `<mark>` and everything escaped. The offsets
 * index the original (unescaped) text, so escaping happens piece by piece, after slicing. With
 * `maxLength`, the text is cut there (with `…`) and marks past the cut are dropped.
 */
export function highlightHtml(
  text: string,
  field: Evidence['field'],
  evidence: readonly Evidence[],
  maxLength = Number.POSITIVE_INFINITY,
): string {
  const end = cutPoint(text, maxLength);
  let out = '';
  let at = 0;
  for (const s of evidenceSpans(text, field, evidence)) {
    if (s.start >= end) break;
    const stop = Math.min(s.end, end);
    out += `${escapeHtml(text.slice(at, s.start))}<mark>${escapeHtml(text.slice(s.start, stop))}</mark>`;
    at = stop;
  }
  out += escapeHtml(text.slice(at, end));
  return end < text.length ? `${out}…` : out;
}

/** Plain text cut like {@link highlightHtml} cuts it. */
export function clipText(text: string, maxLength: number): string {
  const end = cutPoint(text, maxLength);
  return end < text.length ? `${text.slice(0, end)}…` : text;
}
