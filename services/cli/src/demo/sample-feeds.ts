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

/**
 * Items of the MOFCOM-like export-control list page (an HTML source read with the
 * `mofcom-export-control` preset's selectors): `slug` becomes the article path.
 */
export const MOFCOM_LIST: SampleStory[] = [
  {
    slug: '202611/1301',
    title: '商务部 海关总署公告2026年第18号 关于对部分无人机相关物项实施出口管制的公告',
    summary: '',
    expect: 'flag',
  },
  {
    slug: '202611/1298',
    title: '商务部关于举办2026年全国消费促进月活动的通知',
    summary: '',
    expect: 'ignore',
  },
  {
    slug: '202611/1290',
    title: '商务部召开例行新闻发布会',
    summary: '',
    expect: 'ignore',
  },
];

/**
 * A list page in the layout MOFCOM's list template uses (`ul.txtList_01 > li` with a link and a
 * date `span`), written for the demo. The server sends it GBK-encoded, as MOFCOM pages often are.
 */
export function renderMofcomListPage(baseUrl: string, stories: SampleStory[], now: Date): string {
  const esc = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const items = stories
    .map((s, i) => {
      const date = new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10);
      return `        <li><a href="/article/zcfg/gnzcfg/zcfggzqd/${s.slug}.html" title="${esc(s.title)}" target="_blank">${esc(s.title)}</a><span>${date}</span></li>`;
    })
    .join('\n');
  return `<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gbk">
<title>公告 - 中国出口管制信息网（演示）</title>
<script>var _cofing1 = {href: "", type: 0};</script>
</head>
<body>
  <div class="header"><a href="${baseUrl}/">首页</a> &gt; 政策法规 &gt; 公告</div>
  <div class="listCon">
    <ul class="txtList_01">
${items}
    </ul>
    <div class="listline"></div>
    <div class="page">共1页</div>
  </div>
</body>
</html>
`;
}

/** Documents of the Federal Register-like API response (a `federalregister` source). */
export const FEDERAL_REGISTER_DOCS: Array<SampleStory & { type: string; documentNumber: string; cfrPart?: number }> = [
  {
    slug: 'revisions-to-license-requirements-for-advanced-computing-items',
    documentNumber: '2026-24117',
    type: 'Rule',
    title: 'Revisions to License Requirements for Advanced Computing Items and Semiconductor Manufacturing Equipment',
    summary:
      'The Bureau of Industry and Security amends the Export Administration Regulations (EAR) to revise license requirements for items classified under ECCN 3A090 and 4A090.',
    cfrPart: 744,
    expect: 'flag',
  },
  {
    slug: 'information-systems-technical-advisory-committee-notice-of-partially-closed-meeting',
    documentNumber: '2026-24002',
    type: 'Notice',
    title: 'Information Systems Technical Advisory Committee; Notice of Partially Closed Meeting',
    summary: 'The Information Systems Technical Advisory Committee will meet to discuss technical questions.',
    expect: 'ignore',
  },
];

/**
 * A response in the shape of the Federal Register documents API (`documents.json`: `count`,
 * `results[]` with `document_number`, `type`, `agencies`, `cfr_references`, dates and links),
 * written for the demo with links on `baseUrl`.
 */
export function renderFederalRegisterJson(baseUrl: string, docs: typeof FEDERAL_REGISTER_DOCS, now: Date): string {
  const bis = {
    raw_name: 'DEPARTMENT OF COMMERCE, Bureau of Industry and Security',
    name: 'Industry and Security Bureau',
    id: 241,
    slug: 'industry-and-security-bureau',
    parent_id: 54,
  };
  const commerce = {
    raw_name: 'DEPARTMENT OF COMMERCE',
    name: 'Commerce Department',
    id: 54,
    slug: 'commerce-department',
    parent_id: null,
  };
  const results = docs.map((d, i) => {
    const day = new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10);
    return {
      title: d.title,
      type: d.type,
      abstract: d.summary,
      document_number: d.documentNumber,
      html_url: `${baseUrl}/documents/${day.replace(/-/g, '/')}/${d.documentNumber}/${d.slug}`,
      pdf_url: `${baseUrl}/pdf/FR-${day}/${d.documentNumber}.pdf`,
      publication_date: day,
      agencies: [commerce, bis],
      effective_on: d.type === 'Rule' ? day : null,
      comments_close_on: null,
      cfr_references: d.cfrPart ? [{ title: 15, part: d.cfrPart, chapter: 'VII' }] : [],
      citation: `91 FR ${54_321 + i * 17}`,
    };
  });
  return `${JSON.stringify({ count: results.length, description: 'Documents from the Industry and Security Bureau (demo)', total_pages: 1, results }, null, 2)}\n`;
}
