import { FeedItemSchema } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import { FEDERAL_REGISTER_JSON } from './__fixtures__/source-pages.js';
import { parseFederalRegister } from './federal-register.js';

const opts = {
  feedId: 'fr-bis',
  baseUrl: 'https://www.federalregister.gov/api/v1/documents.json',
  fetchedAt: new Date('2025-09-15T00:00:00Z'),
};

function parse(json: string) {
  return parseFederalRegister(Buffer.from(json), { ...opts, contentType: 'application/json; charset=utf-8' });
}

describe('parseFederalRegister', () => {
  it('turns each document into an item with structured fields and a readable summary', () => {
    const parsed = parse(FEDERAL_REGISTER_JSON);
    expect(parsed.format).toBe('federalregister');
    expect(parsed.items).toHaveLength(3);
    const [rule, proposed, notice] = parsed.items;
    expect(rule).toMatchObject({
      feedId: 'fr-bis',
      guid: '2025-17001',
      title: 'Additions to the Entity List',
      url: 'https://www.federalregister.gov/documents/2025/09/12/2025-17001/additions-to-the-entity-list',
      published: '2025-09-12T00:00:00.000Z',
      publishedEstimated: false,
      lang: 'en',
      categories: ['Rule'],
      federalRegister: {
        documentNumber: '2025-17001',
        documentType: 'Rule',
        agencies: ['Commerce Department', 'Industry and Security Bureau'],
        cfrParts: ['15 CFR 744', '15 CFR 746'],
        citation: '90 FR 44001',
        publicationDate: '2025-09-12',
        effectiveDate: '2025-09-12',
        htmlUrl: 'https://www.federalregister.gov/documents/2025/09/12/2025-17001/additions-to-the-entity-list',
        pdfUrl: 'https://www.govinfo.gov/content/pkg/FR-2025-09-12/pdf/2025-17001.pdf',
      },
    });
    expect(rule!.summary).toBe(
      'Rule · Commerce Department, Industry and Security Bureau · 15 CFR 744, 15 CFR 746 · FR Doc. 2025-17001 · 90 FR 44001 · Published 2025-09-12 · Effective 2025-09-12\n\n' +
        'In this rule, the Bureau of Industry and Security (BIS) amends the Export Administration Regulations by adding 12 entities to the Entity List.',
    );
    expect(rule!.federalRegister).not.toHaveProperty('commentDeadline');
    expect(proposed!.federalRegister).toMatchObject({
      documentType: 'Proposed Rule',
      commentDeadline: '2025-11-04',
      cfrParts: ['15 CFR 774'],
    });
    expect(proposed!.summary).toBe(
      'Proposed Rule · Industry and Security Bureau · 15 CFR 774 · FR Doc. 2025-16840 · 90 FR 43210 · Published 2025-09-05 · Comments due 2025-11-04',
    );
    expect(notice!.federalRegister).toMatchObject({
      documentType: 'Notice',
      cfrParts: [],
      agencies: ['Foreign Assets Control Office'],
    });
    expect(notice!.federalRegister).not.toHaveProperty('pdfUrl');
    for (const item of parsed.items) expect(FeedItemSchema.parse(item)).toEqual(item);
  });

  it('gives ids from the document number: the same on a re-poll, apart per feed', () => {
    const a = parse(FEDERAL_REGISTER_JSON).items.map((i) => i.id);
    expect(parse(FEDERAL_REGISTER_JSON).items.map((i) => i.id)).toEqual(a);
    expect(new Set(a).size).toBe(3);
    const other = parseFederalRegister(Buffer.from(FEDERAL_REGISTER_JSON), { ...opts, feedId: 'fr-ofac' });
    expect(other.items[0]!.id).not.toBe(a[0]);
  });

  it('reads an answer with no results (the API leaves `results` out) as no items', () => {
    expect(parse('{"count":0,"description":"Documents matching your search"}').items).toEqual([]);
  });

  it.each([
    ['{"results": [', /^not a Federal Register response: not JSON \(/],
    ['[1,2]', /^not a Federal Register response: expected a JSON object/],
    ['{"data": []}', /^not a Federal Register response: it has neither `results` nor `count`$/],
    ['{"results": [{"title": "x"}]}', /^Federal Register response: results\[0\]\.document_number: /],
    [
      '{"results": [{"document_number": "2025-1", "title": "x", "publication_date": "soon"}]}',
      /^Federal Register response: results\[0\]\.publication_date: must be a YYYY-MM-DD date$/,
    ],
    ['', /^not a Federal Register response: the body is empty$/],
  ])('refuses %s with FEED_PARSE naming what is wrong', (body, message) => {
    let error: unknown;
    try {
      parse(body);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'FEED_PARSE', message: expect.stringMatching(message) });
  });
});
