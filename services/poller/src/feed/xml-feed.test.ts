import { describe, expect, it } from 'vitest';
import { parseXmlFeed, prepareXml } from './xml-feed.js';

const rss = (body: string) => `<rss version="2.0"><channel><title>t</title>${body}</channel></rss>`;

describe('prepareXml entity repair', () => {
  it('leaves a document whose references are all valid XML as it is', () => {
    const text = rss(
      '<item><title>A &amp; B &lt;C&gt; &quot;D&quot; &apos;E&apos; &#233; &#x1F600; &#1234567;</title></item>',
    );
    expect(prepareXml(text).xml).toBe(text);
  });

  it('repairs what a strict parser refuses, right next to references it keeps', () => {
    const cases: Array<[string, string]> = [
      ['AT&T &amp; co', 'AT&amp;T &amp; co'],
      ['&eacute;t&eacute; &amp;', '&#233;t&#233; &amp;'],
      ['&#12345678; &#1;', '&amp;#12345678; &#1;'],
      ['&#x1234567; &#x41;', '&amp;#x1234567; &#x41;'],
      ['&AMP; &amp', '&#38; &amp;amp'],
      ['&ampx; &nosuchentity;', '&#38;&#120;&#59; &amp;nosuchentity;'], // entities' legacy &amp without `;`
    ];
    for (const [input, repaired] of cases) {
      expect(prepareXml(rss(`<item><title>${input}</title></item>`)).xml).toBe(
        rss(`<item><title>${repaired}</title></item>`),
      );
    }
    // Inside CDATA and comments nothing is touched, also when the rest needs repair.
    const cdata = rss(
      '<item><title><![CDATA[AT&T &eacute;]]></title><!-- a&b --><description>x&y</description></item>',
    );
    expect(prepareXml(cdata).xml).toBe(
      rss('<item><title><![CDATA[AT&T &eacute;]]></title><!-- a&b --><description>x&amp;y</description></item>'),
    );
  });
});

describe('parseXmlFeed', () => {
  it('keeps the description as the item content (HTML), and both content fields of RSS', async () => {
    const feed = await parseXmlFeed(
      rss(
        '<item><title>T</title><guid>g1</guid><description>&lt;p&gt;Para &amp;amp; more&lt;/p&gt;</description>' +
          '<content:encoded><![CDATA[<p>Full <b>text</b></p>]]></content:encoded></item>' +
          '<item><title>U</title><guid>g2</guid><description><p>inline <b>xml</b></p></description></item>',
      ).replace('<rss version="2.0">', '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'),
    );
    expect(feed.items[0]).toMatchObject({
      guid: 'g1',
      summaryHtml: '<p>Para &amp; more</p>',
      contentHtml: '<p>Full <b>text</b></p>',
    });
    // An unescaped XHTML description is rebuilt by rss-parser's getContent.
    expect(feed.items[1]).toMatchObject({ guid: 'g2', summaryHtml: '<div><p>inline <b>xml</b></p></div>' });
  });
});
