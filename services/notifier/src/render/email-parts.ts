import {
  type Alert,
  type AlertIdentifier,
  type Evidence,
  PermanentError,
  rankSeverity,
  type Severity,
  type Subscription,
  type Topic,
} from '@regwatch/contracts';
import { escapeHtml, oneLine, safeHttpUrl, sanitizeHeaderText } from './escape.js';
import { clipText, evidenceSpans, highlightHtml } from './highlight.js';
import { mergeStory, type Story } from './story.js';

/** A rendered message: nodemailer's `subject`, `text`, `html` and `headers`. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
  /** Fixed-format headers only (List-Unsubscribe and friends); never feed text. */
  headers: Record<string, string>;
}

/** One story for one subscription, as routing matched it. */
export interface StoryMatch {
  /** Every alert (source) of the story. */
  alerts: readonly Alert[];
  /** The severity for this subscription (watch terms may have raised it). */
  severity: Severity;
  /** `matchedBy` from routing. */
  matchedBy: readonly string[];
  /** Where the subscription's watch terms appear (routing's `watchEvidence`), highlighted like classifier evidence. */
  watchEvidence?: readonly Evidence[];
}

const TOPIC_LABELS: Record<Topic, string> = {
  export_controls: 'Export controls',
  sanctions: 'Sanctions',
  customs_enforcement: 'Customs enforcement',
  tariffs_trade_remedies: 'Tariffs and trade remedies',
  smuggling: 'Smuggling',
  import_restrictions: 'Import restrictions',
};

export function topicLabel(topic: string): string {
  return TOPIC_LABELS[topic as Topic] ?? topic;
}

const SEVERITY_COLORS: Record<Severity, string> = {
  info: '#5f6b7a',
  notice: '#1f6feb',
  high: '#b35900',
  critical: '#c62828',
};

/** A `matchedBy` entry in words: `topic:export_controls` → `Topic: Export controls`. */
export function reasonLabel(reason: string): string {
  if (reason === 'all') return 'Your subscription has no filters: it receives every alert';
  const colon = reason.indexOf(':');
  const kind = colon < 0 ? reason : reason.slice(0, colon);
  const value = colon < 0 ? '' : reason.slice(colon + 1);
  switch (kind) {
    case 'topic':
      return `Topic: ${topicLabel(value)}`;
    case 'jurisdiction':
      return `Jurisdiction: ${value}`;
    case 'entity':
      return `Entity: ${value}`;
    case 'watch':
      return `Your watch term: ${value}`;
    case 'feed':
      return `Feed: ${value}`;
    case 'identifier':
      return `Identifier you watch: ${value}`;
    default:
      return reason;
  }
}

const IDENTIFIER_PREFIX: Record<AlertIdentifier['kind'], string> = {
  eccn: 'ECCN ',
  hs: 'HS ',
  cfr: '',
  fr_doc: 'FR Doc. ',
  fr_citation: '',
  effective_date: 'effective ',
  comment_deadline: 'comments due ',
};

/** `ECCN 3A090.a, HS 8542.31, 15 CFR 744.21, FR Doc. 2025-12345, 90 FR 12345, effective 2025-02-01`, or '' for none. */
export function formatIdentifiers(ids: readonly AlertIdentifier[]): string {
  return ids.map((id) => `${IDENTIFIER_PREFIX[id.kind] ?? ''}${id.value}`).join(', ');
}

/** `2025-03-01 10:00 UTC`, or the input unchanged when it is not a date. */
export function formatTime(value: string | Date): string {
  const d = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(d.getTime())) return String(value);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const SUBJECT_TITLE_MAX = 150;

/** `[regwatch] HIGH <title>` with the title made header-safe and capped. */
export function alertSubject(severity: Severity, title: string): string {
  const clean = sanitizeHeaderText(title, SUBJECT_TITLE_MAX);
  return `[regwatch] ${severity.toUpperCase()} ${clean || '(untitled)'}`;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The unsubscribe headers: `List-Unsubscribe: <url>` (RFC 2369) and, for an https URL (or http on
 * loopback, for development), `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058, which
 * allows one-click only over https). A plain-http URL elsewhere still gets the link, without the
 * one-click header: a deployment behind http must not lose its alerts over this.
 * @throws PermanentError `EMAIL_BAD_UNSUBSCRIBE_URL` when the URL is not http(s) or holds spaces, `<`, `>` or line breaks.
 */
export function unsubscribeHeaders(unsubscribeUrl: string): Record<string, string> {
  const href = safeHttpUrl(unsubscribeUrl);
  // The raw value is checked too: the URL parser would quietly drop a CR/LF, but one there means a bug upstream.
  if (href === null || /[\s<>]/.test(unsubscribeUrl) || /[\s<>]/.test(href)) {
    throw new PermanentError(
      'EMAIL_BAD_UNSUBSCRIBE_URL',
      'unsubscribeUrl must be an http(s) URL without spaces or angle brackets',
    );
  }
  const url = new URL(href);
  const oneClick = url.protocol === 'https:' || isLoopbackHost(url.hostname);
  return {
    'List-Unsubscribe': `<${href}>`,
    ...(oneClick ? { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {}),
    // RFC 3834: machine-generated, so vacation responders and auto-replies stay quiet.
    'Auto-Submitted': 'auto-generated',
    'X-Auto-Response-Suppress': 'All',
  };
}

const SNIPPET_CONTEXT = 40;
const MAX_EVIDENCE_LISTED = 12;

/** The positive evidence of a story plus watch hits, once per span, in reading order. */
function listedEvidence(story: Story, watch: readonly Evidence[]): Evidence[] {
  const seen = new Set<string>();
  const out: Evidence[] = [];
  for (const e of [...story.evidence, ...watch]) {
    const text = e.field === 'title' ? story.primary.title : story.primary.summary;
    if (e.kind === 'negative' || evidenceSpans(text, e.field, [e]).length === 0) continue;
    const key = `${e.field}:${e.start}:${e.end}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out
    .sort((a, b) => (a.field === b.field ? a.start - b.start : a.field === 'title' ? -1 : 1))
    .slice(0, MAX_EVIDENCE_LISTED);
}

function evidenceNote(e: Evidence): string {
  if (e.kind === 'watch') return `your watch term “${e.target ?? e.text}”`;
  const target = e.kind === 'topic' && e.target ? topicLabel(e.target) : e.target;
  return target ? `${e.kind}: ${target}` : e.kind;
}

/** A window of the field around the evidence, with the match marked; offsets are the original field's. */
function snippetHtml(text: string, e: Evidence): string {
  const from = Math.max(0, e.start - SNIPPET_CONTEXT);
  const to = Math.min(text.length, e.end + SNIPPET_CONTEXT);
  return `${from > 0 ? '…' : ''}${escapeHtml(text.slice(from, e.start))}<mark>${escapeHtml(
    text.slice(e.start, e.end),
  )}</mark>${escapeHtml(text.slice(e.end, to))}${to < text.length ? '…' : ''}`;
}

export interface StoryRenderOptions {
  /** Cap on the summary shown, in UTF-16 units. */
  summaryMax: number;
  /** Whether to list the evidence snippets (digests skip them to stay short). */
  listEvidence: boolean;
}

/** A story's HTML block and plain-text block. */
export function renderStory(match: StoryMatch, opts: StoryRenderOptions): { html: string; text: string; story: Story } {
  const story = mergeStory(match.alerts);
  const p = story.primary;
  const watch = match.watchEvidence ?? [];
  const marks = [...story.evidence, ...watch];
  const link = safeHttpUrl(p.url);
  const sev = match.severity.toUpperCase();
  const raised = rankSeverity(match.severity) > rankSeverity(story.severity);
  const topics = story.topics.map(topicLabel).join(', ') || '—';
  const jurisdictions = story.jurisdictions.join(', ') || '—';
  const entities = story.entities.join(', ') || '—';
  // Only stories that name identifiers get the line: most news names none.
  const identifiers = formatIdentifiers(story.identifiers);
  const evidence = opts.listEvidence ? listedEvidence(story, watch) : [];
  const field = (e: Evidence) => (e.field === 'title' ? p.title : p.summary);

  const titleHtml = highlightHtml(p.title, 'title', marks);
  const html: string[] = [];
  html.push('<div style="margin:0 0 28px">');
  html.push(
    `<p style="margin:0 0 6px;font-size:12px;letter-spacing:.04em"><span style="background:${SEVERITY_COLORS[match.severity]};color:#fff;padding:2px 6px;border-radius:3px;font-weight:bold">${sev}</span> ${escapeHtml(topics)}</p>`,
  );
  html.push(
    `<h2 style="margin:0 0 6px;font-size:18px">${link ? `<a href="${escapeHtml(link)}" style="color:#0b3d91">${titleHtml}</a>` : titleHtml}</h2>`,
  );
  html.push(
    `<p style="margin:0 0 10px;color:#5f6b7a;font-size:12px">Published ${escapeHtml(formatTime(p.published))}</p>`,
  );
  if (p.summary !== '')
    html.push(`<p style="margin:0 0 10px">${highlightHtml(p.summary, 'summary', marks, opts.summaryMax)}</p>`);
  html.push('<table style="border-collapse:collapse;font-size:13px;margin:0 0 10px">');
  const rows: Array<readonly [string, string]> = [
    ['Topics', topics],
    ['Jurisdictions', jurisdictions],
    ['Entities', entities],
  ];
  if (identifiers !== '') rows.push(['Identifiers', identifiers]);
  for (const [k, v] of rows) {
    html.push(
      `<tr><th style="text-align:left;padding:2px 12px 2px 0;color:#5f6b7a;font-weight:normal">${k}</th><td>${escapeHtml(v)}</td></tr>`,
    );
  }
  html.push('</table>');
  html.push(
    '<h3 style="margin:12px 0 4px;font-size:14px">Why you got this</h3><ul style="margin:0 0 8px;padding-left:20px">',
  );
  for (const r of match.matchedBy) html.push(`<li>${escapeHtml(reasonLabel(r))}</li>`);
  if (raised)
    html.push(
      `<li>Severity raised from ${story.severity.toUpperCase()} to ${sev}: one of your watch terms appears.</li>`,
    );
  html.push('</ul>');
  if (evidence.length > 0) {
    html.push(
      '<p style="margin:0 0 4px;font-size:13px">Matched in the text:</p><ul style="margin:0 0 8px;padding-left:20px;font-size:13px">',
    );
    for (const e of evidence) {
      html.push(
        `<li>“${snippetHtml(field(e), e)}” <span style="color:#5f6b7a">(${e.field}; ${escapeHtml(evidenceNote(e))})</span></li>`,
      );
    }
    html.push('</ul>');
  }
  html.push(
    `<h3 style="margin:12px 0 4px;font-size:14px">Sources (${story.sources.length})</h3><ul style="margin:0;padding-left:20px;font-size:13px">`,
  );
  for (const s of story.sources) {
    const href = safeHttpUrl(s.url);
    const title = escapeHtml(s.title || s.url || s.itemId);
    const meta = `<span style="color:#5f6b7a">${escapeHtml(s.feedId)}, ${escapeHtml(formatTime(s.published))}</span>`;
    const body = href
      ? `<a href="${escapeHtml(href)}">${title}</a>`
      : `${title}${s.url ? ` <span style="color:#5f6b7a">(link not shown: not http or https)</span>` : ''}`;
    html.push(`<li>${body} — ${meta}</li>`);
  }
  html.push('</ul></div>');

  const text: string[] = [];
  text.push(`${sev} — ${oneLine(p.title)}`);
  text.push(`Published ${formatTime(p.published)}`);
  if (link) text.push(link);
  text.push('');
  if (p.summary !== '') text.push(clipText(p.summary, opts.summaryMax), '');
  text.push(`Topics: ${topics}`, `Jurisdictions: ${jurisdictions}`, `Entities: ${entities}`);
  if (identifiers !== '') text.push(`Identifiers: ${oneLine(identifiers)}`);
  text.push('');
  text.push('Why you got this:');
  for (const r of match.matchedBy) text.push(`- ${reasonLabel(r)}`);
  if (raised)
    text.push(`- Severity raised from ${story.severity.toUpperCase()} to ${sev}: one of your watch terms appears.`);
  if (evidence.length > 0) {
    text.push('Matched in the text:');
    for (const e of evidence)
      text.push(`- "${oneLine(field(e).slice(e.start, e.end))}" in the ${e.field} (${evidenceNote(e)})`);
  }
  text.push('', `Sources (${story.sources.length}):`);
  for (const s of story.sources) {
    const href = safeHttpUrl(s.url);
    text.push(`- ${oneLine(s.title) || s.itemId} — ${s.feedId}, ${formatTime(s.published)}`);
    if (href) text.push(`  ${href}`);
  }
  return { html: html.join('\n'), text: text.join('\n'), story };
}

/** Wraps blocks in a minimal HTML document and adds the footer. */
export function htmlDocument(title: string, body: string, footer: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(title)}</title></head>`,
    '<body style="margin:0;padding:24px;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;line-height:1.45;color:#1b1f24;max-width:720px">',
    body,
    `<hr style="border:0;border-top:1px solid #d8dee4;margin:24px 0 12px"><p style="font-size:12px;color:#5f6b7a">${footer}</p>`,
    '</body></html>',
  ].join('\n');
}

/** The "why you get this mail" footer, HTML and text. */
export function footer(subscription: Subscription, unsubscribeUrl: string): { html: string; text: string } {
  const name = subscription.name ? `“${subscription.name}” (${subscription.id})` : subscription.id;
  return {
    html: `You get this because of the regwatch subscription ${escapeHtml(name)} of team ${escapeHtml(subscription.team)}. <a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a>`,
    text: `You get this because of the regwatch subscription ${name} of team ${subscription.team}.\nUnsubscribe: ${unsubscribeUrl}`,
  };
}
