import { decodeHTML } from 'entities';
import { describe, expect, it } from 'vitest';
import { htmlToText } from './html-to-text.js';

describe('htmlToText()', () => {
  it.each([
    ['<p>Export <b>controls</b> tightened.</p><p>Second paragraph</p>', 'Export controls tightened. Second paragraph'],
    ['a<br>b<br/>c', 'a b c'],
    ['<script>var x = "<p>no</p>";</script>kept<style>p { color: red }</style>', 'kept'],
    ['<!-- comment <b>x</b> -->visible', 'visible'],
    ['Caf&eacute; &amp; bar&nbsp;&nbsp;&#8212; &#x27;q&#x27; &hellip;', "Café & bar — 'q' …"],
    ['&amp;#39;double&amp;#39; &amp;quot;escaped&amp;quot;', '\'double\' "escaped"'],
    ['&lt;p&gt;escaped &lt;a href="x"&gt;markup&lt;/a&gt;&lt;/p&gt;', 'escaped markup'],
    ['<a title="a > b" href="/x">link</a> text', 'link text'],
    ['  lots \n\n of \t whitespace  ', 'lots of whitespace'],
    ['x < y and y > z', 'x < y and y > z'],
    ['<![CDATA[inside]]>', 'inside'],
    ['', ''],
  ])('%j → %j', (html, text) => {
    expect(htmlToText(html)).toBe(text);
  });

  it('gives plain text (no <, & or ]]>) the same result as the full passes', () => {
    // The full passes as they run on markup, for comparison with the plain-text shortcut.
    const full = (html: string) => {
      const strip = (h: string) =>
        decodeHTML(
          h
            .replace(/<!\[CDATA\[|\]\]>/g, '')
            .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
            .replace(/<(script|style|noscript|template|iframe|object|svg|math)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
            .replace(/<\/?([A-Za-z][A-Za-z0-9]*)[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>/g, ' '),
        );
      return strip(html)
        .replace(/[\s\u00a0\u200b\ufeff]+/g, ' ')
        .trim();
    };
    const alphabet = [
      'a',
      'Z',
      'é',
      '中',
      ' ',
      '\n',
      '\t',
      '\u00a0',
      '\u200b',
      '\ufeff',
      ']',
      '>',
      ';',
      '#',
      '"',
      "'",
      '-',
      '!',
    ];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    for (let n = 0; n < 2000; n++) {
      const text = Array.from({ length: next() % 40 }, () => alphabet[next() % alphabet.length]).join('');
      if (/[<&]|\]\]>/.test(text)) continue;
      expect(htmlToText(text)).toBe(full(text));
    }
    expect(htmlToText('a ]] > b ]]')).toBe('a ]] > b ]]');
    expect(htmlToText('x ]]> y')).toBe('x y');
  });

  it('stays fast on hostile markup', () => {
    const hostile = `<a ${'"'.repeat(50_000)}${'<'.repeat(50_000)}`;
    const started = performance.now();
    htmlToText(hostile);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
