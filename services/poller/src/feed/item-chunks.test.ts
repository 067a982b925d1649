import { describe, expect, it } from 'vitest';
import { findItemChunks, withoutChunks } from './item-chunks.js';

const texts = (xml: string, root: string) => findItemChunks(xml, root)?.map((c) => xml.slice(c.start, c.end));

describe('findItemChunks', () => {
  it('finds the items of an RSS channel, in order, each from its start tag to its end tag', () => {
    const xml =
      '<rss version="2.0"><channel><title>T</title>\n<item><title>A</title></item>\n<item id="2" >\n<title>B</title></item ></channel></rss>';
    expect(texts(xml, 'rss')).toEqual(['<item><title>A</title></item>', '<item id="2" >\n<title>B</title></item >']);
  });

  it('finds Atom entries and RSS 1.0 items, not the RDF channel’s <items> list', () => {
    const atom =
      '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><id>1</id></entry><entry><id>2</id></entry></feed>';
    expect(texts(atom, 'feed')).toEqual(['<entry><id>1</id></entry>', '<entry><id>2</id></entry>']);
    const rdf =
      '<rdf:RDF xmlns:rdf="r" xmlns="p"><channel rdf:about="x"><items><rdf:Seq><rdf:li resource="a"/></rdf:Seq></items></channel><item rdf:about="a"><title>A</title></item></rdf:RDF>';
    expect(texts(rdf, 'rdf:RDF')).toEqual(['<item rdf:about="a"><title>A</title></item>']);
  });

  it('is not fooled by item tags in comments, CDATA, processing instructions or attribute values', () => {
    const xml = [
      '<!-- <item> before the root -->',
      '<rss><channel>',
      '<!-- <item>commented out</item> -->',
      '<?pi <item> ?>',
      '<item><description><![CDATA[<item>inside</item> </channel>]]></description><link title="a>b <item>">x</link></item>',
      '</channel></rss>',
    ].join('');
    expect(texts(xml, 'rss')).toEqual([
      '<item><description><![CDATA[<item>inside</item> </channel>]]></description><link title="a>b <item>">x</link></item>',
    ]);
  });

  it('finds none in a channel without items', () => {
    expect(findItemChunks('<rss><channel><title>T</title></channel></rss>', 'rss')).toEqual([]);
  });

  it.each([
    ['an item outside the channel', 'rss', '<rss><channel></channel><item><title>A</title></item></rss>'],
    ['an item inside an item', 'rss', '<rss><channel><item><item>A</item></item></channel></rss>'],
    ['a self-closed item', 'rss', '<rss><channel><item/></channel></rss>'],
    ['a second channel', 'rss', '<rss><channel><item>A</item></channel><channel><item>B</item></channel></rss>'],
    ['an end tag that does not match', 'rss', '<rss><channel><item><title>A</item></channel></rss>'],
    ['a tag left open', 'rss', '<rss><channel><item><title>A</title></item></channel>'],
    ['an unterminated comment', 'rss', '<rss><channel><!-- <item></item></channel></rss>'],
    ['an unterminated CDATA section', 'rss', '<rss><channel><item><![CDATA[x</item></channel></rss>'],
    ['a `<` inside a tag', 'rss', '<rss><channel><item <title>A</title></item></channel></rss>'],
    ['a doctype in the body', 'rss', '<rss><!DOCTYPE x><channel></channel></rss>'],
    ['an entry outside the feed root', 'feed', '<feed><author><entry>1</entry></author></feed>'],
    ['a root the parser does not read', 'html', '<html><item>A</item></html>'],
  ])('gives up (undefined) on %s', (_what, root, xml) => {
    expect(findItemChunks(xml, root)).toBeUndefined();
  });
});

describe('withoutChunks', () => {
  it('removes exactly the chunks asked for and keeps the text between them', () => {
    const xml = '<rss><channel>\n<item>A</item>\n<item>B</item>\n<item>C</item>\n</channel></rss>';
    const chunks = findItemChunks(xml, 'rss')!;
    expect(withoutChunks(xml, chunks, new Set([0, 2]))).toBe('<rss><channel>\n\n<item>B</item>\n\n</channel></rss>');
    expect(withoutChunks(xml, chunks, new Set())).toBe(xml);
  });
});
