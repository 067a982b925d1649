/** A story as a test feed carries it. `link` is relative to the feed server; default `/news/<slug>`. */
export interface WireStory {
  slug: string;
  title: string;
  summary: string;
  link?: string;
}

/** The story regwatch exists for: it must alert (customs enforcement, import restrictions, CN). */
export const CUSTOMS_STORY: WireStory = {
  slug: 'china-customs-chip-inspections',
  title: 'Chinese customs now inspect every semiconductor shipment to stop NVIDIA H20 imports',
  summary:
    'Customs officers at Chinese ports check all incoming chip shipments for NVIDIA H20 and RTX 6000D accelerators; Tencent, ByteDance and Alibaba were told to cancel their orders.',
  // Tracking parameters the poller must strip from the canonical URL.
  link: '/2026/11/china-customs-chip-inspections?utm_source=rss&utm_medium=feed',
};

/** A look-alike on the same feed that must stay quiet. */
export const GPU_REVIEW: WireStory = {
  slug: 'rtx-5080-super-review',
  title: 'Tested: the GeForce RTX 5080 Super is the fastest card under $1,000',
  summary:
    'In our benchmarks the new NVIDIA graphics card beats last year’s model by 18% at 4K, and it runs quieter too.',
  link: '/2026/11/rtx-5080-super-review',
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An RSS 2.0 document as a publisher writes it: escaped HTML descriptions, one guid per story, newest first. */
export function renderRss(channel: string, base: string, stories: readonly WireStory[], now = new Date()): string {
  const items = stories
    .map(
      (
        s,
        i,
      ) => `<item><title>${escapeXml(s.title)}</title><link>${escapeXml(`${base}${s.link ?? `/news/${s.slug}`}`)}</link>
<guid isPermaLink="false">${escapeXml(`${channel}-${s.slug}`)}</guid><pubDate>${new Date(now.getTime() - i * 3_600_000).toUTCString()}</pubDate>
<description>${escapeXml(`<p>${s.summary}</p>`)}</description></item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>${escapeXml(channel)}</title><link>${base}/</link>${items}</channel></rss>`;
}
