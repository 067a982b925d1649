/**
 * Pages written for the source-type tests. They imitate the structure of the sites regwatch's
 * presets read (a ministry's announcement list, a customs list in a table, an agency's press
 * releases, the Federal Register documents API, an entity-list supplement), but every text here
 * is made up: no page was copied.
 */
import iconv from 'iconv-lite';

/** An announcement list like a Chinese ministry's: GB2312 declared by http-equiv, relative links, a script. */
export const MINISTRY_LIST_HTML = `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html><head>
<!-- 发布平台 v3 -->
<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />
<title>出口管制公告 - 示例商务部门</title>
<script type="text/javascript">
  document.title = '已篡改'; window.__ran = true; var stolen = '脚本文字不应出现';
</script>
<style>.list li { color: red } /* 样式文字 */</style>
</head>
<body>
<div class="header"><a href="/">首页</a> &gt; <a href="/zcfb/">政策发布</a></div>
<div class="listCon">
  <ul class="list">
    <li><a href="./202510/20251009093001.shtml" target="_blank" title="公告2025年第61号 关于对稀土相关物项实施出口管制的决定">公告2025年第61号 关于对稀土相关物项实施出口管制的决定</a><span class="time">2025-10-09</span></li>
    <li><a href="./202510/20251009093002.shtml?src=list#p62" target="_blank">公告2025年第62号  关于对锂电池及人造石墨负极材料相关物项实施出口管制的决定</a><span class="time">2025-10-09</span></li>
    <li><a href="/zcfb/202509/20250926150001.shtml">公告2025年第58号 关于将若干实体列入出口管制管控名单的决定<script>document.write('注入')</script></a><span class="time">2025-09-26</span></li>
    <li><a href="javascript:void(0)">（无链接的条目应被跳过）</a><span class="time">2025-09-20</span></li>
    <li><span class="time">2025-09-19</span></li>
    <li><a href="https://other.example.cn/notice/2025/0915.html">关于两用物项出口许可证管理目录的公告</a><span class="time">2025-9-15</span></li>
  </ul>
</div>
<div class="footer">版权所有 示例部门</div>
</body></html>`;

/** The same list with dates like 2025年10月9日 and `<meta charset>` instead of http-equiv. */
export const MINISTRY_LIST_CN_DATES_HTML = MINISTRY_LIST_HTML.replace(
  '<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />',
  '<meta charset="GBK">',
)
  .replace(/<span class="time">(\d{4})-0?(\d{1,2})-0?(\d{1,2})<\/span>/g, '<span class="time">$1年$2月$3日</span>')
  .replace('<div class="listCon">', '<base href="https://mofcom.example.cn/zcfb/"><div class="listCon">');

/** Bytes of a page as a GBK (GB18030) site serves them. */
export function gbk(html: string): Buffer {
  return iconv.encode(html, 'gbk');
}

/** A customs announcement list laid out as a table, like a customs administration's 公告 page. */
export const CUSTOMS_TABLE_HTML = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>海关公告</title></head>
<body>
<div id="ess_ctr_list">
<table class="conList_ull" cellspacing="0">
  <tr class="head"><th>标题</th><th>发布日期</th></tr>
  <tr><td class="tit"><a href="/customs/302249/302266/6710001/index.html">海关总署公告2025年第200号（关于发布进出口商品归类决定的公告）</a></td><td class="date">2025-10-15</td></tr>
  <tr><td class="tit"><a href="/customs/302249/302266/6710002/index.html">海关总署 商务部公告2025年第199号（关于调整两用物项进出口许可证管理目录）</a></td><td class="date">2025-10-11</td></tr>
  <tr><td class="tit"><a href="/customs/302249/302266/6709870/index.html">海关总署公告2025年第198号（关于HS 8542.31项下商品申报要求的公告）</a></td><td class="date">2025-10-02</td></tr>
</table>
</div>
</body></html>`;

/** An English press-release list like a US agency's: dates in `<time datetime>`, a teaser each. */
export const PRESS_LIST_HTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Press Releases | Example Bureau</title>
<script>fetch('/beacon?x=' + document.cookie)</script></head>
<body>
<main id="content">
  <div class="view-content">
    <div class="views-row"><article class="node node--type-press-release">
      <h3 class="title"><a href="/press-release/commerce-adds-12-entities-entity-list?utm_source=site">Commerce Adds 12 Entities to the Entity List for Diverting Advanced Chips</a></h3>
      <time datetime="2025-09-12T14:30:00Z">September 12, 2025</time>
      <div class="teaser"><p>The Bureau added twelve entities in three countries under 15 CFR 744.11 &amp; imposed a license requirement for items subject to the EAR.</p></div>
    </article></div>
    <div class="views-row"><article class="node node--type-press-release">
      <h3 class="title"><a href="/press-release/revised-controls-advanced-computing">Revised Controls on Advanced Computing Items &lt;3A090&gt;</a></h3>
      <time datetime="2025-09-03T16:00:00Z">September 3, 2025</time>
      <div class="teaser"><p>An interim final rule revises license exception ACA.</p></div>
    </article></div>
    <div class="views-row"><article class="node node--type-press-release">
      <h3 class="title"><a href="/press-release/settlement-export-violations">Company Agrees to Pay $2.1 Million Penalty for Export Violations</a></h3>
      <time>August 28, 2025</time>
    </article></div>
  </div>
</main>
</body></html>`;

/** A documents.json answer shaped like the Federal Register API's: a rule, a proposed rule, a notice. */
export const FEDERAL_REGISTER_JSON = JSON.stringify({
  count: 3,
  description: 'Documents matching your search',
  total_pages: 1,
  results: [
    {
      document_number: '2025-17001',
      title: 'Additions to the Entity List',
      type: 'Rule',
      abstract:
        'In this rule, the Bureau of Industry and Security (BIS) amends the Export Administration Regulations by adding 12 entities to the Entity List.',
      agencies: [
        { raw_name: 'DEPARTMENT OF COMMERCE', name: 'Commerce Department', slug: 'commerce-department', id: 54 },
        {
          raw_name: 'Bureau of Industry and Security',
          name: 'Industry and Security Bureau',
          slug: 'industry-and-security-bureau',
          id: 241,
        },
      ],
      cfr_references: [
        { title: 15, part: 744, chapter: 'VII' },
        { title: 15, part: 746 },
      ],
      publication_date: '2025-09-12',
      effective_on: '2025-09-12',
      comments_close_on: null,
      html_url: 'https://www.federalregister.gov/documents/2025/09/12/2025-17001/additions-to-the-entity-list',
      pdf_url: 'https://www.govinfo.gov/content/pkg/FR-2025-09-12/pdf/2025-17001.pdf',
      citation: '90 FR 44001',
    },
    {
      document_number: '2025-16840',
      title: 'Export Controls on Certain Semiconductor Manufacturing Items; Request for Comments',
      type: 'Proposed Rule',
      abstract: null,
      agencies: [
        {
          raw_name: 'Bureau of Industry and Security',
          name: 'Industry and Security Bureau',
          slug: 'industry-and-security-bureau',
        },
      ],
      cfr_references: [{ title: 15, part: 774 }],
      publication_date: '2025-09-05',
      effective_on: null,
      comments_close_on: '2025-11-04',
      html_url: 'https://www.federalregister.gov/documents/2025/09/05/2025-16840/export-controls',
      pdf_url: 'https://www.govinfo.gov/content/pkg/FR-2025-09-05/pdf/2025-16840.pdf',
      citation: '90 FR 43210',
    },
    {
      document_number: '2025-16500',
      title: 'Notice of OFAC Sanctions Actions',
      type: 'Notice',
      abstract: 'The Office of Foreign Assets Control is publishing the names of persons whose property is blocked.',
      agencies: [
        {
          raw_name: 'Foreign Assets Control Office',
          name: 'Foreign Assets Control Office',
          slug: 'foreign-assets-control-office',
        },
      ],
      cfr_references: [],
      publication_date: '2025-09-01',
      html_url: 'https://www.federalregister.gov/documents/2025/09/01/2025-16500/notice-of-ofac-sanctions-actions',
      pdf_url: null,
      citation: '90 FR 42000',
    },
  ],
});

/** A supplement page listing entities, its list in `#supplement-list`; `rows` are its entries. */
export function supplementPage(rows: ReadonlyArray<[country: string, entity: string]>): string {
  const body = rows.map(([c, e]) => `      <tr><td>${c}</td><td>${e}</td></tr>`).join('\n');
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Supplement No. 4</title>
<script>var tracking = 'script text must not be watched';</script></head>
<body>
<nav><a href="/">Home</a> | Updated ${Date.now()}</nav>
<div id="supplement-list">
  <h2>Entity List</h2>
  <table>
    <thead><tr><th>Country</th><th>Entity</th></tr></thead>
    <tbody>
${body}
    </tbody>
  </table>
</div>
<footer>Page generated at ${new Date().toISOString()}</footer>
</body></html>`;
}
