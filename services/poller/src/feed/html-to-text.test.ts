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

  it('stays fast on hostile markup', () => {
    const hostile = `<a ${'"'.repeat(50_000)}${'<'.repeat(50_000)}`;
    const started = performance.now();
    htmlToText(hostile);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
