import { describe, expect, it } from 'vitest';
import { supplementPage } from './__fixtures__/source-pages.js';
import { diffLines, formatDiff, pageBaselineKey, parsePageSource, readPageRegion } from './page-watch.js';

const source = {
  id: 'el-supp4',
  url: 'https://bis.example.gov/supp4',
  selector: '#supplement-list',
  title: 'Entity List',
};
const opts = (at: string) => ({
  feedId: source.id,
  baseUrl: source.url,
  fetchedAt: new Date(at),
  contentType: 'text/html',
});
const body = (rows: Array<[string, string]>) => Buffer.from(supplementPage(rows));

describe('readPageRegion', () => {
  it('reads the region as lines (rows, headings), without scripts or what is outside it', () => {
    const text = readPageRegion(
      body([
        ['China', 'Alpha Tech Co.'],
        ['Russia', 'Beta LLC'],
      ]),
      source,
      opts('2025-01-01T00:00:00Z'),
    );
    expect(text).toBe('Entity List\nCountry Entity\nChina Alpha Tech Co.\nRussia Beta LLC');
  });

  it('fails, naming the selector, when the region is gone (a layout change is breakage, not "all removed")', () => {
    expect(() => readPageRegion(Buffer.from('<p>moved</p>'), source, opts('2025-01-01T00:00:00Z'))).toThrow(
      expect.objectContaining({
        code: 'FEED_PARSE',
        message: 'selector: "#supplement-list" matches nothing on the page',
      }),
    );
  });
});

describe('parsePageSource', () => {
  it('baseline → change → unchanged → change, with a readable diff each time', () => {
    const v1 = body([
      ['China', 'Alpha Tech Co.'],
      ['Russia', 'Beta LLC'],
    ]);
    const first = parsePageSource(v1, source, opts('2025-01-01T00:00:00Z'), undefined);
    expect(first.items).toEqual([]);
    expect(first.pageBaseline).toEqual({ of: pageBaselineKey(source), text: expect.stringContaining('Beta LLC') });

    const v2 = body([
      ['China', 'Alpha Tech Co.'],
      ['China', 'Gamma Semiconductor'],
      ['Iran', 'Delta Trading'],
      ['Russia', 'Beta LLC (revised address)'],
    ]);
    const second = parsePageSource(v2, source, opts('2025-01-02T00:00:00Z'), first.pageBaseline);
    expect(second.items).toHaveLength(1);
    const change = second.items[0]!;
    expect(change).toMatchObject({
      feedId: 'el-supp4',
      title: 'Entity List: page changed (+3 −1 lines)',
      url: 'https://bis.example.gov/supp4',
      summary:
        'Added:\n+ China Gamma Semiconductor\n+ Iran Delta Trading\n+ Russia Beta LLC (revised address)\nRemoved:\n- Russia Beta LLC',
      published: '2025-01-02T00:00:00.000Z',
    });
    expect(change.id).toMatch(/^i[0-9a-f]{24}$/);
    expect(second.fragments[change.id]).toMatch(/^regwatch-change-/);

    // The page's timestamp outside the region changed; the region did not.
    const third = parsePageSource(v2, source, opts('2025-01-03T00:00:00Z'), second.pageBaseline);
    expect(third.items).toEqual([]);
    expect(third.pageBaseline).toBeUndefined();

    const v4 = body([
      ['China', 'Alpha Tech Co.'],
      ['Iran', 'Delta Trading'],
      ['Russia', 'Beta LLC (revised address)'],
    ]);
    const fourth = parsePageSource(v4, source, opts('2025-01-04T00:00:00Z'), second.pageBaseline);
    expect(fourth.items.map((i) => [i.title, i.summary])).toEqual([
      ['Entity List: page changed (+0 −1 lines)', 'Removed:\n- China Gamma Semiconductor'],
    ]);
    // The same change seen again (a retried poll) is the same item.
    expect(parsePageSource(v4, source, opts('2025-01-05T00:00:00Z'), second.pageBaseline).items[0]!.id).toBe(
      fourth.items[0]!.id,
    );
  });

  it('starts a new baseline when the selector or URL changes, instead of reporting everything', () => {
    const v1 = body([['China', 'Alpha Tech Co.']]);
    const first = parsePageSource(v1, source, opts('2025-01-01T00:00:00Z'), undefined);
    const moved = { ...source, selector: 'table' };
    const again = parsePageSource(v1, moved, opts('2025-01-02T00:00:00Z'), first.pageBaseline);
    expect(again.items).toEqual([]);
    expect(again.pageBaseline?.of).toBe(pageBaselineKey(moved));
  });
});

describe('diffLines', () => {
  it('counts repeated lines and ignores order', () => {
    expect(diffLines('a\nb\nb\nc', 'c\nb\na\nd')).toEqual({ added: ['d'], removed: ['b'] });
    expect(diffLines('', 'x')).toEqual({ added: ['x'], removed: [] });
  });

  it('lists at most 200 lines a side, saying how many more', () => {
    const after = Array.from({ length: 250 }, (_, i) => `line ${i}`).join('\n');
    const text = formatDiff(diffLines('', after));
    expect(text.split('\n')).toHaveLength(202);
    expect(text.endsWith('… and 50 more')).toBe(true);
  });
});

describe('hostile pages', () => {
  it('refuses a page nested deeper than any real one, quickly, instead of stalling the poller', () => {
    const depth = 100_000;
    const html = `<div id="supplement-list">${'<div>'.repeat(depth)}deep entry${'</div>'.repeat(depth)}</div>`;
    const started = Date.now();
    expect(() => readPageRegion(Buffer.from(html), source, opts('2025-01-01T00:00:00Z'))).toThrow(
      expect.objectContaining({
        code: 'FEED_PARSE',
        message: expect.stringMatching(
          /^not parsed: the page nests elements about 100001 deep, more than the 2500 allowed/,
        ),
      }),
    );
    // Generous: the check is one linear pass (a few ms); parse5 on this page takes minutes.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reads a region nested as deep as allowed, and does not count unclosed <li>/<p> or script text as nesting', () => {
    const depth = 2_000;
    const noise = `<script>${'<div>'.repeat(10_000)}</script>${'<li>x'.repeat(10_000)}<!-- ${'<div>'.repeat(5_000)} -->`;
    const html = `${noise}<div id="supplement-list">${'<div>'.repeat(depth)}deep entry${'</div>'.repeat(depth)}</div>`;
    expect(readPageRegion(Buffer.from(html), source, opts('2025-01-01T00:00:00Z'))).toBe('deep entry');
  });
});
