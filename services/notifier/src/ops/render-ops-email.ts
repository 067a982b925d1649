import type { OpsEventJob, SourceIncidentKind } from '@regwatch/contracts';
import { formatTime, htmlDocument, type RenderedEmail } from '../render/email-parts.js';
import { escapeHtml, oneLine, safeHttpUrl, sanitizeHeaderText } from '../render/escape.js';

const STATE: Record<SourceIncidentKind, string> = {
  silent: 'is silent',
  empty: 'yields no items',
  failing: 'is failing',
};

const ADVICE: Record<SourceIncidentKind, string> = {
  silent:
    'Nothing new has come from this source for far longer than its history shows. Open the page or feed: it may have moved, stopped updating, or be serving a stale copy.',
  empty:
    'The source used to list items and now lists none. If it is an HTML page, its layout has probably changed: check the selectors with `regwatch poll-once --source`.',
  failing:
    'Polls of this source keep failing. If the error is FEED_PARSE the document is no longer what regwatch expects; otherwise check that the site is reachable.',
};

/**
 * The ops notice for one incident transition: "[regwatch ops] Source mofcom-export-control is
 * silent" / "… recovered (was silent)". Everything from the feed (id, name, URL, detail) is
 * escaped in HTML and header-safe in the subject; nothing fetched from the source is included.
 */
export function renderOpsEmail(job: OpsEventJob): RenderedEmail {
  const { incident } = job;
  const id = sanitizeHeaderText(incident.feedId, 64);
  const isOpened = job.transition === 'opened';
  const subject = isOpened
    ? `[regwatch ops] Source ${id} ${STATE[incident.kind]}`
    : `[regwatch ops] Source ${id} recovered (was ${incident.kind})`;
  const name = job.feedName ? `${oneLine(job.feedName)} (${incident.feedId})` : incident.feedId;
  const detail = oneLine(incident.detail);
  const lines = isOpened
    ? [
        `The source ${name} ${STATE[incident.kind]}: ${detail}.`,
        `Since ${formatTime(incident.openedAt)}.`,
        ADVICE[incident.kind],
        'You will get one more message when it recovers.',
      ]
    : [
        `The source ${name} has recovered: it was ${incident.kind} from ${formatTime(incident.openedAt)} to ${formatTime(incident.resolvedAt ?? job.at)}.`,
        `What was seen: ${detail}.`,
      ];
  const url = safeHttpUrl(job.feedUrl);
  const textUrl = url ? `\n\nSource: ${url}` : '';
  const htmlUrl = url ? `<p style="margin:0 0 12px">Source: <code>${escapeHtml(url)}</code></p>` : '';
  const foot = 'You get this as the ops contact of this regwatch deployment (REGWATCH_OPS_EMAIL).';
  const heading = isOpened ? `Source ${STATE[incident.kind]}` : 'Source recovered';
  return {
    subject,
    html: htmlDocument(
      subject,
      `<h1 style="font-size:20px;margin:0 0 12px">${escapeHtml(heading)}</h1>\n${lines
        .map((l) => `<p style="margin:0 0 12px">${escapeHtml(l)}</p>`)
        .join('\n')}${htmlUrl}`,
      escapeHtml(foot),
    ),
    text: `${lines.join('\n\n')}${textUrl}\n\n-- \n${foot}\n`,
    // RFC 3834: machine-generated, so auto-replies stay quiet.
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
  };
}
