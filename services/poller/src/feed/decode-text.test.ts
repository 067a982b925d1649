import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { charsetFromContentType, decodeDocument, resolveCharset } from './decode-text.js';

describe('decodeDocument()', () => {
  it('reports where the charset came from', () => {
    const gbk = iconv.encode('<?xml version="1.0" encoding="GBK"?><rss/>', 'gbk');
    expect(decodeDocument(gbk).source).toBe('xml-declaration');
    expect(decodeDocument(gbk, 'text/xml; charset=gbk').source).toBe('content-type');
    expect(decodeDocument(Buffer.from('\ufeff<rss/>')).source).toBe('bom');
    expect(decodeDocument(Buffer.from('<rss>ü</rss>')).source).toBe('sniffed-utf-8');
    expect(decodeDocument(iconv.encode('<rss>ü</rss>', 'latin1'))).toEqual({
      text: '<rss>ü</rss>',
      charset: 'windows-1252',
      source: 'fallback-windows-1252',
    });
  });

  it('decodes ISO-8859-1 as Windows-1252 (curly quotes in the C1 range)', () => {
    const bytes = Buffer.concat([
      Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><t>'),
      Buffer.from([0x93, 0x41, 0x94]),
      Buffer.from('</t>'),
    ]);
    expect(decodeDocument(bytes).text).toContain('“A”');
  });

  it('ignores an unknown charset label and carries on', () => {
    const doc = decodeDocument(
      Buffer.from('<?xml version="1.0" encoding="x-made-up"?><rss>é</rss>'),
      'text/xml; charset=bogus',
    );
    expect(doc.text).toContain('é');
    expect(doc.source).toBe('sniffed-utf-8');
  });

  it('does not read a declaration as JSON', () => {
    expect(decodeDocument(Buffer.from('{"a":"é"}'), 'application/json', true).text).toBe('{"a":"é"}');
  });
});

describe('charset labels', () => {
  it.each([
    ['gb2312', 'gb18030'],
    ['GBK', 'gb18030'],
    ['big5', 'big5hkscs'],
    ['Shift_JIS', 'cp932'],
    ['EUC-KR', 'cp949'],
    ['iso-8859-1', 'windows-1252'],
    ['us-ascii', 'windows-1252'],
    ['UTF-8', 'utf-8'],
    ['koi8-r', 'koi8-r'],
    ['iso-8859-2', 'iso-8859-2'],
    ['nonsense', undefined],
  ])('%s → %s', (label, name) => {
    expect(resolveCharset(label)).toBe(name);
  });

  it('reads the charset parameter', () => {
    expect(charsetFromContentType('application/rss+xml; charset="utf-8"')).toBe('utf-8');
    expect(charsetFromContentType('text/xml;charset=GB2312')).toBe('GB2312');
    expect(charsetFromContentType('text/xml')).toBeUndefined();
    expect(charsetFromContentType(undefined)).toBeUndefined();
  });
});
