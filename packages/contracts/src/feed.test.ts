import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  FeedItemSchema,
  FeedSourceSchema,
  federalRegisterQueryUrl,
  feedSourceSchemaWith,
  feedSourceType,
  feedSourceUrl,
} from './feed.js';
import { formatIssues } from './issues.js';

function problems(input: unknown): string[] {
  const r = z
    .object({ feeds: z.array(FeedSourceSchema) })
    .safeParse({ feeds: [{ id: 'ok', url: 'https://a.test/' }, input] });
  return r.success ? [] : formatIssues(r.error);
}

describe('FeedSourceSchema', () => {
  it('reads a feed without `type` as rss, unchanged', () => {
    const feed = FeedSourceSchema.parse({ id: 'bis', url: 'https://example.com/rss.xml' });
    expect(feed).toEqual({ id: 'bis', url: 'https://example.com/rss.xml', intervalSeconds: 300, enabled: true });
    expect(feedSourceType(feed)).toBe('rss');
    expect(feedSourceUrl(feed)).toBe('https://example.com/rss.xml');
  });

  it('accepts each type with its own fields and a jurisdiction', () => {
    const html = FeedSourceSchema.parse({
      id: 'mofcom',
      type: 'html',
      url: 'https://example.com/list.html',
      jurisdiction: 'CN',
      selectors: { item: 'ul.list li', title: 'a', link: 'a@href', date: 'span.date' },
      dateFormat: 'YYYY年MM月DD日',
    });
    expect(html.type).toBe('html');
    const page = FeedSourceSchema.parse({ id: 'el', type: 'page', url: 'https://example.com/p', selector: '#main' });
    expect(page.type === 'page' && page.selector).toBe('#main');
  });

  it('names the bad field by path', () => {
    expect(
      problems({ id: 'x', type: 'html', url: 'https://a.test/', selectors: { title: 'a', link: 'a@href' } }),
    ).toEqual(['feeds[1].selectors.item: Invalid input: expected string, received undefined']);
    expect(problems({ id: 'x', type: 'htm', url: 'https://a.test/' })[0]).toMatch(
      /^feeds\[1\]\.type: must be one of "rss", "html", "federalregister", "page"/,
    );
    expect(problems({ id: 'x', type: 'page', url: 'ftp://a.test/', selector: '' })).toEqual([
      'feeds[1].url: must be an http(s) URL',
      'feeds[1].selector: Too small: expected string to have >=1 characters',
    ]);
    expect(
      problems({
        id: 'x',
        type: 'html',
        url: 'https://a.test/',
        selectors: { item: 'li', title: 'a', link: 'a' },
        dateFormat: 'DD.MM',
      }),
    ).toEqual([expect.stringMatching(/^feeds\[1\]\.dateFormat: must name a year/)]);
  });

  it('wants exactly one of url and agencies for federalregister', () => {
    expect(problems({ id: 'fr', type: 'federalregister' })).toEqual([
      expect.stringMatching(/^feeds\[1\]\.agencies: give exactly one of `url`/),
    ]);
    expect(
      problems({
        id: 'fr',
        type: 'federalregister',
        url: 'https://a.test/d.json',
        agencies: ['industry-and-security-bureau'],
      }),
    ).toEqual([expect.stringMatching(/^feeds\[1\]\.url: give exactly one/)]);
    expect(problems({ id: 'fr', type: 'federalregister', agencies: ['Bad Slug'] })).toEqual([
      expect.stringMatching(/^feeds\[1\]\.agencies\[0\]: must be an agency slug/),
    ]);
    expect(problems({ id: 'fr', type: 'federalregister', agencies: ['a'], documentTypes: ['MEMO'] })[0]).toMatch(
      /^feeds\[1\]\.documentTypes\[0\]: /,
    );
  });

  it('builds the documents.json URL from agencies, types and a term', () => {
    const feed = FeedSourceSchema.parse({
      id: 'fr-bis',
      type: 'federalregister',
      agencies: ['industry-and-security-bureau', 'foreign-assets-control-office'],
      documentTypes: ['RULE', 'PRORULE'],
      term: 'entity list',
    });
    const url = new URL(feedSourceUrl(feed));
    expect(`${url.origin}${url.pathname}`).toBe('https://www.federalregister.gov/api/v1/documents.json');
    expect(url.searchParams.getAll('conditions[agencies][]')).toEqual([
      'industry-and-security-bureau',
      'foreign-assets-control-office',
    ]);
    expect(url.searchParams.getAll('conditions[type][]')).toEqual(['RULE', 'PRORULE']);
    expect(url.searchParams.get('conditions[term]')).toBe('entity list');
    expect(url.searchParams.get('order')).toBe('newest');
    expect(url.searchParams.getAll('fields[]')).toContain('cfr_references');
    expect(federalRegisterQueryUrl({ agencies: ['x'] })).not.toContain('conditions%5Bterm%5D');
  });

  it('extends every member, and generates a JSON Schema for OpenAPI', () => {
    const View = feedSourceSchemaWith({ source: z.enum(['file', 'api']) });
    expect(
      View.parse({ id: 'a', type: 'page', url: 'https://a.test/', selector: 'main', source: 'api' }),
    ).toMatchObject({
      source: 'api',
    });
    const json = z.toJSONSchema(FeedSourceSchema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as {
      oneOf: unknown[];
    };
    expect(json.oneOf).toHaveLength(4);
  });
});

describe('FeedItemSchema', () => {
  it('carries Federal Register fields when given', () => {
    const item = FeedItemSchema.parse({
      id: 'fr-2025-00001',
      feedId: 'fr',
      title: 't',
      summary: 's',
      published: '2025-01-02T00:00:00.000Z',
      fetchedAt: '2025-01-02T00:00:00.000Z',
      federalRegister: { documentNumber: '2025-00001', cfrParts: ['15 CFR 744'] },
    });
    expect(item.federalRegister).toEqual({ documentNumber: '2025-00001', cfrParts: ['15 CFR 744'], agencies: [] });
  });
});
