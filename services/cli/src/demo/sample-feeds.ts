/**
 * Sample feeds for `pnpm demo`, written for regwatch (fictional wording, real-world kinds of
 * stories): trade-control news that must alert, and look-alikes that must stay quiet.
 */
export interface SampleStory {
  title: string;
  summary: string;
  slug: string;
  /** What the demo expects the classifier to do with it; printed next to the outcome. */
  expect: 'flag' | 'ignore';
}

export const TRADE_DESK: SampleStory[] = [
  {
    slug: 'china-customs-gpu-inspections',
    title: 'Chinese customs step up inspections of semiconductor shipments to stop NVIDIA H20 imports',
    summary:
      'Customs officers at major ports in China are now checking every incoming semiconductor shipment for NVIDIA H20 and RTX 6000D accelerators, and large platforms such as Tencent, ByteDance and Alibaba were told to cancel their orders.',
    expect: 'flag',
  },
  {
    slug: 'bis-entity-list-additions',
    title: 'Commerce Department adds 23 companies to the Entity List over advanced chip diversion',
    summary:
      'The Bureau of Industry and Security said the firms helped route controlled AI accelerators to restricted end users; exporters now need a licence for any item subject to the EAR.',
    expect: 'flag',
  },
  {
    slug: 'mofcom-gallium-controls',
    title: '商务部对镓、锗相关物项实施出口管制',
    summary: '商务部和海关总署发布公告,对镓、锗相关两用物项实施出口管制,出口经营者须申请许可。',
    expect: 'flag',
  },
  {
    slug: 'hong-kong-smuggling-bust',
    title: 'Hong Kong customs seize smuggled GPUs hidden in a lorry at the border',
    summary:
      'Officers found 300 graphics processors concealed among consumer goods in a truck bound for the mainland, in what the department called a smuggling case involving controlled chips.',
    expect: 'flag',
  },
  {
    slug: 'eu-duties-electric-vehicles',
    title: 'EU confirms countervailing duties on electric vehicles made in China',
    summary:
      'The European Commission set definitive anti-subsidy tariffs of up to 35% on battery electric cars imported from China.',
    expect: 'flag',
  },
];

export const TECH_DESK: SampleStory[] = [
  {
    slug: 'rtx-review',
    title: 'Review: the new RTX 5070 is fast, quiet and a little too expensive',
    summary:
      'NVIDIA’s mid-range card beats its predecessor by 20% in our game tests; ray tracing is finally usable at 1440p.',
    expect: 'ignore',
  },
  {
    slug: 'studio-head-leaves',
    title: 'Veteran game studio head departs after 15 years',
    summary:
      'The founder of the role-playing game studio said he will take a break; the publisher named an interim lead.',
    expect: 'ignore',
  },
  {
    slug: 'csv-export',
    title: 'Spreadsheet app adds one-click CSV export and custom keyboard shortcuts',
    summary: 'The update also lets users export charts as images and fixes a crash when opening large files.',
    expect: 'ignore',
  },
  {
    slug: 'wedding-customs',
    title: 'Wedding customs around the world: ten traditions explained',
    summary: 'From breaking plates to tea ceremonies, local customs give each celebration its own flavour.',
    expect: 'ignore',
  },
  {
    // The first trade-desk story again, as a syndicating outlet words it: one alert, two sources.
    slug: 'the-same-customs-story',
    title: 'Chinese customs step up inspections of chip shipments to stop NVIDIA H20 imports',
    summary:
      'Customs officers at major ports in China are now checking every incoming semiconductor shipment for NVIDIA H20 and RTX 6000D accelerators, and large platforms such as Tencent, ByteDance and Alibaba were told to cancel their orders.',
    expect: 'flag',
  },
];

/** Renders stories as an RSS 2.0 document, escaping text as a real publisher would. */
export function renderRss(channel: string, baseUrl: string, stories: SampleStory[], now: Date): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const items = stories
    .map((s, i) => {
      const date = new Date(now.getTime() - i * 3_600_000).toUTCString();
      return `    <item>
      <title>${esc(s.title)}</title>
      <link>${baseUrl}/news/${s.slug}?utm_source=rss</link>
      <guid isPermaLink="false">${channel}-${s.slug}</guid>
      <pubDate>${date}</pubDate>
      <description>${esc(`<p>${s.summary}</p>`)}</description>
    </item>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>${esc(channel)}</title>
    <link>${baseUrl}/</link>
    <description>regwatch demo feed</description>
${items}
  </channel>
</rss>
`;
}
