import { FeedSourceSchema, type HtmlFeedSource } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import {
  CUSTOMS_TABLE_HTML,
  gbk,
  MINISTRY_LIST_CN_DATES_HTML,
  MINISTRY_LIST_HTML,
  PRESS_LIST_HTML,
} from './__fixtures__/source-pages.js';
import { decodeHtmlDocument } from './decode-text.js';
import { MAX_HTML_ITEMS, parseDateWithFormat, parseHtmlList } from './html-source.js';

const fetchedAt = new Date('2025-10-20T00:00:00Z');

function htmlSource(fields: Record<string, unknown>): HtmlFeedSource {
  return FeedSourceSchema.parse({ id: 'list', type: 'html', url: 'https://x.test/', ...fields }) as HtmlFeedSource;
}

const ministry = htmlSource({
  url: 'https://mofcom.example.cn/zcfb/index.shtml',
  selectors: { item: 'ul.list li', title: 'a', link: 'a@href', date: 'span.time' },
  lang: 'zh',
});

function parse(body: Buffer | string, source: HtmlFeedSource, contentType?: string, baseUrl = source.url) {
  return parseHtmlList(Buffer.isBuffer(body) ? body : Buffer.from(body), source, {
    feedId: source.id,
    baseUrl,
    fetchedAt,
    ...(contentType ? { contentType } : {}),
    ...(source.lang ? { lang: source.lang } : {}),
  });
}

describe('parseHtmlList', () => {
  it('reads a GBK ministry list by its http-equiv charset alone: titles, resolved links, dates', () => {
    const parsed = parse(gbk(MINISTRY_LIST_HTML), ministry, 'text/html');
    expect(parsed.format).toBe('html');
    expect(parsed.title).toBe('出口管制公告 - 示例商务部门');
    expect(parsed.items.map((i) => [i.title, i.url, i.published])).toEqual([
      [
        '公告2025年第61号 关于对稀土相关物项实施出口管制的决定',
        'https://mofcom.example.cn/zcfb/202510/20251009093001.shtml',
        '2025-10-09T00:00:00.000Z',
      ],
      [
        '公告2025年第62号 关于对锂电池及人造石墨负极材料相关物项实施出口管制的决定',
        'https://mofcom.example.cn/zcfb/202510/20251009093002.shtml?src=list',
        '2025-10-09T00:00:00.000Z',
      ],
      [
        '公告2025年第58号 关于将若干实体列入出口管制管控名单的决定',
        'https://mofcom.example.cn/zcfb/202509/20250926150001.shtml',
        '2025-09-26T00:00:00.000Z',
      ],
      [
        '关于两用物项出口许可证管理目录的公告',
        'https://other.example.cn/notice/2025/0915.html',
        '2025-09-15T00:00:00.000Z',
      ],
    ]);
    for (const item of parsed.items) {
      expect(item).toMatchObject({ feedId: 'list', lang: 'zh', publishedEstimated: false, summary: '' });
      expect(item.id).toMatch(/^i[0-9a-f]{24}$/);
    }
    // The fragment of a link is kept for the poller's URL dedupe, not in the canonical url.
    expect(parsed.fragments[parsed.items[1]!.id]).toBe('p62');
  });

  it('never takes script or style text into items', () => {
    const parsed = parse(gbk(MINISTRY_LIST_HTML), ministry, 'text/html');
    const all = JSON.stringify(parsed);
    for (const leaked of ['注入', '脚本文字', 'document.write', '样式文字', '已篡改'])
      expect(all).not.toContain(leaked);
  });

  it('gives the same ids on a re-poll, and different ids for another feed', () => {
    const a = parse(gbk(MINISTRY_LIST_HTML), ministry, 'text/html; charset=GBK');
    const b = parse(gbk(MINISTRY_LIST_HTML), ministry, 'text/html');
    expect(b.items.map((i) => i.id)).toEqual(a.items.map((i) => i.id));
    const other = parse(gbk(MINISTRY_LIST_HTML), { ...ministry, id: 'other' }, 'text/html');
    expect(other.items[0]!.id).not.toBe(a.items[0]!.id);
  });

  it('reads <meta charset="GBK">, 2025年10月9日 dates with a dateFormat and <base href>', () => {
    const source = { ...ministry, dateFormat: 'YYYY年M月D日' };
    const parsed = parse(gbk(MINISTRY_LIST_CN_DATES_HTML), source, 'text/html', 'https://mirror.example.cn/x/y.html');
    expect(parsed.items.map((i) => i.published.slice(0, 10))).toEqual([
      '2025-10-09',
      '2025-10-09',
      '2025-09-26',
      '2025-09-15',
    ]);
    expect(parsed.items[0]!.url).toBe('https://mofcom.example.cn/zcfb/202510/20251009093001.shtml');
    // Without the format the heuristics read the same dates.
    const guessed = parse(gbk(MINISTRY_LIST_CN_DATES_HTML), ministry, 'text/html');
    expect(guessed.items.map((i) => i.published)).toEqual(parsed.items.map((i) => i.published));
  });

  it('reads a customs list laid out as a table (tbody implied, header row skipped)', () => {
    const source = htmlSource({
      url: 'http://customs.example.cn/customs/302249/302266/index.html',
      selectors: { item: 'table.conList_ull > tbody > tr', title: 'td.tit a', link: 'td.tit a@href', date: 'td.date' },
      dateFormat: 'YYYY-MM-DD',
    });
    const parsed = parse(CUSTOMS_TABLE_HTML, source, 'text/html; charset=utf-8');
    expect(parsed.items.map((i) => [i.title, i.url, i.published.slice(0, 10)])).toEqual([
      [
        '海关总署公告2025年第200号（关于发布进出口商品归类决定的公告）',
        'http://customs.example.cn/customs/302249/302266/6710001/index.html',
        '2025-10-15',
      ],
      [
        '海关总署 商务部公告2025年第199号（关于调整两用物项进出口许可证管理目录）',
        'http://customs.example.cn/customs/302249/302266/6710002/index.html',
        '2025-10-11',
      ],
      [
        '海关总署公告2025年第198号（关于HS 8542.31项下商品申报要求的公告）',
        'http://customs.example.cn/customs/302249/302266/6709870/index.html',
        '2025-10-02',
      ],
    ]);
  });

  it('reads an English press list: <time datetime>, summaries, tracking parameters dropped, text kept literal', () => {
    const source = htmlSource({
      url: 'https://bis.example.gov/news/press-releases',
      selectors: {
        item: 'div.views-row',
        title: 'h3.title a',
        link: 'h3.title a@href',
        date: 'time@datetime',
        summary: '.teaser',
      },
    });
    const parsed = parse(PRESS_LIST_HTML, source);
    expect(parsed.items).toHaveLength(3);
    expect(parsed.items[0]).toMatchObject({
      url: 'https://bis.example.gov/press-release/commerce-adds-12-entities-entity-list',
      published: '2025-09-12T14:30:00.000Z',
      summary:
        'The Bureau added twelve entities in three countries under 15 CFR 744.11 & imposed a license requirement for items subject to the EAR.',
    });
    expect(parsed.items[1]!.title).toBe('Revised Controls on Advanced Computing Items <3A090>');
    // No datetime attribute: no date, so the fetch time stands in and says so.
    expect(parsed.items[2]).toMatchObject({
      published: fetchedAt.toISOString(),
      publishedEstimated: true,
      summary: '',
    });
    expect(JSON.stringify(parsed)).not.toContain('beacon');
  });

  it('yields zero items, not an error, when the item selector matches nothing', () => {
    const source = htmlSource({ selectors: { item: 'ul.gone li', title: 'a', link: 'a@href' } });
    expect(parse(PRESS_LIST_HTML, source).items).toEqual([]);
  });

  it('refuses an invalid CSS selector, naming the field', () => {
    const source = htmlSource({ selectors: { item: 'div.views-row', title: 'h3[', link: 'a@href' } });
    expect(() => parse(PRESS_LIST_HTML, source)).toThrow(/^selectors\.title: invalid CSS selector "h3\["/);
  });

  it(`keeps at most ${MAX_HTML_ITEMS} entries`, () => {
    const rows = Array.from({ length: 700 }, (_, i) => `<li><a href="/n/${i}">Notice ${i}</a></li>`).join('');
    const source = htmlSource({ selectors: { item: 'li', title: 'a', link: 'a@href' } });
    expect(parse(`<ul>${rows}</ul>`, source).items).toHaveLength(MAX_HTML_ITEMS);
  });

  it('reads the item element itself with an empty selector before @', () => {
    const source = htmlSource({ selectors: { item: 'a.n', title: ':scope', link: '@href' } });
    const parsed = parse('<p><a class="n" href="/a"> One </a><a class="n" href="/b">Two</a></p>', source);
    expect(parsed.items.map((i) => [i.title, i.url])).toEqual([
      ['One', 'https://x.test/a'],
      ['Two', 'https://x.test/b'],
    ]);
  });
});

describe('parseDateWithFormat', () => {
  it.each([
    ['2025-10-09', 'YYYY-MM-DD', '2025-10-09T00:00:00.000Z'],
    ['发布时间：2025年10月9日', 'YYYY年M月D日', '2025-10-09T00:00:00.000Z'],
    ['[09/10/2025]', 'DD/MM/YYYY', '2025-10-09T00:00:00.000Z'],
    ['2025.10.09 14:05', 'YYYY.MM.DD HH:mm', '2025-10-09T14:05:00.000Z'],
    ['25-1-2', 'YY-M-D', '2025-01-02T00:00:00.000Z'],
  ])('%s as %s', (text, format, iso) => {
    expect(parseDateWithFormat(text, format)).toBe(iso);
  });

  it.each([
    ['2025-02-30', 'YYYY-MM-DD'],
    ['12025-10-09', 'YYYY-MM-DD'],
    ['no date', 'YYYY-MM-DD'],
  ])('refuses %s', (text, format) => {
    expect(parseDateWithFormat(text, format)).toBeUndefined();
  });
});

describe('decodeHtmlDocument', () => {
  it('takes the header first, then <meta>, and lets the bytes decide when one of them says UTF-8', () => {
    const bytes = gbk(MINISTRY_LIST_HTML);
    expect(decodeHtmlDocument(bytes, 'text/html')).toMatchObject({ charset: 'gb18030', source: 'html-meta' });
    expect(decodeHtmlDocument(bytes, 'text/html; charset=gbk')).toMatchObject({
      charset: 'gb18030',
      source: 'content-type',
    });
    // A blanket utf-8 header over a GBK page: the bytes are not UTF-8, so the page's <meta> wins.
    const mislabelled = decodeHtmlDocument(bytes, 'text/html; charset=utf-8');
    expect(mislabelled).toMatchObject({ charset: 'gb18030', source: 'html-meta' });
    expect(mislabelled.text).toContain('稀土');
    expect(
      decodeHtmlDocument(Buffer.from('<meta charset="utf-8"><p>ü</p>'), 'text/html; charset=iso-8859-1'),
    ).toMatchObject({
      charset: 'utf-8',
    });
    // Declarations inside comments and past the first 1024 bytes do not count.
    const late = Buffer.from(`<!-- <meta charset="gbk"> -->${' '.repeat(1100)}<meta charset="gbk"><p>x</p>`);
    expect(decodeHtmlDocument(late).source).toBe('sniffed-utf-8');
  });
});
