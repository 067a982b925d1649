import { describe, expect, it } from 'vitest';
import { canonicalUrl, linkFragment } from './canonical-url.js';

describe('canonicalUrl()', () => {
  it.each([
    ['HTTPS://News.Example.COM/Path/Story?id=7', 'https://news.example.com/Path/Story?id=7'],
    ['https://example.com:443/a', 'https://example.com/a'],
    ['http://example.com:80/a', 'http://example.com/a'],
    ['http://example.com:8080/a', 'http://example.com:8080/a'],
    ['https://example.com/a#section-2', 'https://example.com/a'],
    ['https://example.com./a', 'https://example.com/a'],
    ['https://user:pw@example.com/a', 'https://example.com/a'],
    ['https://example.com/a?utm_source=rss&utm_medium=feed&UTM_Campaign=x', 'https://example.com/a'],
    ['https://example.com/a?b=2&fbclid=1&a=1&gclid=2&mc_eid=3&mc_cid=4&msclkid=5', 'https://example.com/a?b=2&a=1'],
    ['https://example.com/a?q=export%20controls&utm_source=x', 'https://example.com/a?q=export%20controls'],
    ['https://example.com/a?q=a+b', 'https://example.com/a?q=a+b'],
    ['https://example.com/a?', 'https://example.com/a'],
    ['  https://example.com/a  ', 'https://example.com/a'],
    ['https://bücher.example/a', 'https://xn--bcher-kva.example/a'],
    // Parts a setter clears only when present: empty fragments and queries, `?` inside a fragment,
    // one credential of two, and queries kept as the parser serialized them.
    ['https://example.com/a#', 'https://example.com/a'],
    ['https://example.com/a?#x', 'https://example.com/a'],
    ['https://example.com/a#x?y', 'https://example.com/a'],
    ['https://example.com/a?q=1#x?utm_source=y', 'https://example.com/a?q=1'],
    ['https://user@example.com/a', 'https://example.com/a'],
    ['https://:pw@example.com/a?', 'https://example.com/a'],
    ['https://example.com/a?&&b=1&', 'https://example.com/a?b=1'],
    ["https://example.com/a?q='b' c&d=é", 'https://example.com/a?q=%27b%27%20c&d=%C3%A9'],
    ['https://example.com/a?q=%zz&u=%E4', 'https://example.com/a?q=%zz&u=%E4'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalUrl(input)).toBe(expected);
  });

  it('resolves relative links against a base', () => {
    expect(canonicalUrl('/trade/x.html', 'https://Site.example/feed.xml')).toBe('https://site.example/trade/x.html');
    expect(canonicalUrl('x.html?utm_source=a', 'https://site.example/news/')).toBe('https://site.example/news/x.html');
    expect(canonicalUrl('//cdn.example/a', 'https://site.example/')).toBe('https://cdn.example/a');
  });

  it.each([
    'mailto:desk@example.com',
    'javascript:alert(1)',
    'ftp://example.com/a',
    'not a url',
    '',
    '/relative-without-base',
  ])('returns undefined for %j', (input) => {
    expect(canonicalUrl(input)).toBeUndefined();
  });

  it('refuses URLs longer than the schema allows', () => {
    expect(canonicalUrl(`https://example.com/${'a'.repeat(5_000)}`)).toBeUndefined();
  });
});

describe('linkFragment()', () => {
  it.each([
    ['https://example.com/notices.html#n2', 'n2'],
    ['https://example.com/post#comment-42', 'comment-42'],
    ['#a1', 'a1'],
  ])('%s → %s', (input, expected) => {
    expect(linkFragment(input, 'https://example.com/')).toBe(expected);
  });

  it.each([
    'https://example.com/a',
    'https://example.com/a#',
    'https://example.com/a#xtor=RSS-3208',
    'https://example.com/a#utm_source=feed',
    'https://example.com/a#comments',
    'https://example.com/a#respond',
    'not a url',
  ])('has none for %j', (input) => {
    expect(linkFragment(input)).toBeUndefined();
  });
});
