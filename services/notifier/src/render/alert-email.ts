import type { Alert, Evidence, Severity, Subscription } from '@regwatch/contracts';
import {
  alertSubject,
  footer,
  htmlDocument,
  type RenderedEmail,
  renderStory,
  unsubscribeHeaders,
} from './email-parts.js';

export interface RenderAlertEmailInput {
  /** Every alert (source) of one story. */
  alerts: readonly Alert[];
  subscription: Subscription;
  /** The severity for this subscription (routing's, possibly raised by a watch term). */
  severity: Severity;
  /** Routing's `matchedBy`. */
  matchedBy: readonly string[];
  /** Routing's `watchEvidence`, to highlight the team's own words too. */
  watchEvidence?: readonly Evidence[];
  /** The signed one-click unsubscribe URL (https). */
  unsubscribeUrl: string;
}

/** How much of a summary an alert email shows. */
const SUMMARY_MAX = 4_000;

/**
 * Renders the email for one story: subject `[regwatch] <SEVERITY> <title>`, an HTML part and a
 * plain-text part with topics, jurisdictions, entities, why it was sent (with the matched words
 * marked) and every source. Feed text is escaped everywhere and appears in no header but the
 * sanitized subject; only http(s) links become links.
 * @throws PermanentError for an empty or mixed story or a bad unsubscribe URL.
 */
export function renderAlertEmail(input: RenderAlertEmailInput): RenderedEmail {
  const headers = unsubscribeHeaders(input.unsubscribeUrl);
  const block = renderStory(
    {
      alerts: input.alerts,
      severity: input.severity,
      matchedBy: input.matchedBy,
      ...(input.watchEvidence ? { watchEvidence: input.watchEvidence } : {}),
    },
    { summaryMax: SUMMARY_MAX, listEvidence: true },
  );
  const subject = alertSubject(input.severity, block.story.primary.title);
  const foot = footer(input.subscription, input.unsubscribeUrl);
  return {
    subject,
    html: htmlDocument(subject, block.html, foot.html),
    text: `${block.text}\n\n-- \n${foot.text}\n`,
    headers,
  };
}
