import { rankSeverity, SEVERITIES, type Subscription } from '@regwatch/contracts';
import {
  footer,
  formatTime,
  htmlDocument,
  type RenderedEmail,
  renderStory,
  type StoryMatch,
  unsubscribeHeaders,
} from './email-parts.js';
import { escapeHtml } from './escape.js';

export interface RenderDigestEmailInput {
  /** The stories of the window, each as routing matched it for this subscription. */
  stories: readonly StoryMatch[];
  subscription: Subscription;
  /** The period the digest covers. */
  window: { from: string | Date; to: string | Date };
  unsubscribeUrl: string;
}

/** A digest lists at most this many stories in full; the rest are counted. Mail clients clip long messages. */
export const DIGEST_MAX_STORIES = 50;
const SUMMARY_MAX = 600;

/**
 * Renders one message for many stories: most severe first, then newest. The subject carries only
 * counts, the top severity and the window — no feed text.
 * @throws PermanentError for an empty story or a bad unsubscribe URL.
 */
export function renderDigestEmail(input: RenderDigestEmailInput): RenderedEmail {
  const headers = unsubscribeHeaders(input.unsubscribeUrl);
  const blocks = input.stories.map((s) => ({
    match: s,
    ...renderStory(s, { summaryMax: SUMMARY_MAX, listEvidence: false }),
  }));
  blocks.sort(
    (a, b) =>
      rankSeverity(b.match.severity) - rankSeverity(a.match.severity) ||
      Date.parse(b.story.primary.published) - Date.parse(a.story.primary.published),
  );
  const shown = blocks.slice(0, DIGEST_MAX_STORIES);
  const hidden = blocks.length - shown.length;
  const n = blocks.length;
  const top = blocks[0]?.match.severity;
  const period = `${formatTime(input.window.from)} – ${formatTime(input.window.to)}`;
  const counts = SEVERITIES.slice()
    .reverse()
    .map((sev) => [sev, blocks.filter((b) => b.match.severity === sev).length] as const)
    .filter(([, c]) => c > 0)
    .map(([sev, c]) => `${c} ${sev.toUpperCase()}`)
    .join(', ');
  const subject = `[regwatch] Digest: ${n} ${n === 1 ? 'story' : 'stories'}${top ? `, highest ${top.toUpperCase()}` : ''} (${period})`;
  const intro =
    n === 0
      ? 'No new stories matched in this period.'
      : `${n} ${n === 1 ? 'story' : 'stories'} (${counts}) for ${period}.`;
  const more = hidden > 0 ? `…and ${hidden} more ${hidden === 1 ? 'story' : 'stories'}, not shown here.` : '';
  const foot = footer(input.subscription, input.unsubscribeUrl);

  const html = [
    `<h1 style="font-size:20px;margin:0 0 4px">regwatch digest</h1><p style="margin:0 0 20px;color:#5f6b7a">${escapeHtml(intro)}</p>`,
    ...shown.map((b) => b.html),
    more ? `<p>${escapeHtml(more)}</p>` : '',
  ].join('\n');
  const text = [
    'regwatch digest',
    intro,
    '',
    ...shown.map((b, i) => `${i + 1}. ${b.text}\n`),
    more,
    `-- \n${foot.text}\n`,
  ].join('\n');
  return { subject, html: htmlDocument(subject, html, foot.html), text, headers };
}
