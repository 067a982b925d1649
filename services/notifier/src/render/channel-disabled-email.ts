import type { Subscription } from '@regwatch/contracts';
import { formatTime, htmlDocument, type RenderedEmail } from './email-parts.js';
import { escapeHtml, sanitizeHeaderText } from './escape.js';

export interface RenderChannelDisabledInput {
  subscription: Subscription;
  /** The endpoint's host (and port): never its path, which may carry a token. */
  host: string;
  /** `WEBHOOK_GONE` or `FAILING`. */
  reason: string;
  /** The first failure since the last success. */
  since: string;
  disabledAt: string;
  /** How long failures must last before regwatch disables an endpoint, in hours. */
  disableAfterHours: number;
}

/**
 * The operational mail telling a team that regwatch stopped sending to one of its webhook
 * endpoints, why, and how to get the missed alerts. It carries no feed text.
 */
export function renderChannelDisabledEmail(input: RenderChannelDisabledInput): RenderedEmail {
  const sub = input.subscription;
  const name = sub.name ? `“${sub.name}” (${sub.id})` : sub.id;
  const why =
    input.reason === 'WEBHOOK_GONE'
      ? 'it answered 410 Gone, which says the endpoint no longer exists'
      : `every delivery to it has failed since ${formatTime(input.since)} (more than ${input.disableAfterHours} hours)`;
  const subject = `[regwatch] Webhook endpoint disabled: ${sanitizeHeaderText(input.host, 120)} (${sanitizeHeaderText(sub.id, 64)})`;
  const lines = [
    `regwatch has stopped sending alerts of the subscription ${name} (team ${sub.team}) to the webhook endpoint at ${input.host}: ${why}.`,
    `Disabled at ${formatTime(input.disabledAt)}.`,
    'Alerts for this endpoint are kept as dead letters while it is disabled. Once the endpoint works again, ask your regwatch operator to enable it; the dead letters can then be replayed.',
  ];
  const html = lines.map((l) => `<p style="margin:0 0 12px">${escapeHtml(l)}</p>`).join('\n');
  const foot = `You get this as a contact of the regwatch subscription ${name}.`;
  return {
    subject,
    html: htmlDocument(
      subject,
      `<h1 style="font-size:20px;margin:0 0 12px">Webhook endpoint disabled</h1>\n${html}`,
      escapeHtml(foot),
    ),
    text: `${lines.join('\n\n')}\n\n-- \n${foot}\n`,
    headers: {},
  };
}
