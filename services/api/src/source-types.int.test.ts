import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from './testing.js';

let api: Awaited<ReturnType<typeof createTestApi>>;
beforeAll(async () => {
  api = await createTestApi({ fileFeeds: [], fileSubscriptions: [] });
});
afterAll(async () => {
  await api.close();
});

const html = {
  id: 'mofcom-list',
  type: 'html',
  url: 'http://example.cn/list/',
  jurisdiction: 'CN',
  selectors: { item: 'ul.list li', title: 'a', link: 'a@href', date: 'span' },
  dateFormat: 'YYYY年M月D日',
};

describe('source types over the API (real Redis)', () => {
  it('stores and returns html, federalregister and page sources; an rss one without type stays as it was', async () => {
    const admin = await api.headers('admin');
    const bodies = [
      html,
      { id: 'fr-bis', type: 'federalregister', agencies: ['industry-and-security-bureau'], documentTypes: ['RULE'] },
      { id: 'el-page', type: 'page', url: 'https://example.gov/supp4', selector: '#list' },
      { id: 'plain', url: 'https://example.com/feed.xml' },
    ];
    for (const payload of bodies) {
      const res = await api.app.inject({ method: 'POST', url: '/v1/feeds', headers: admin, payload });
      expect(res.statusCode, JSON.stringify(res.json())).toBe(201);
    }
    const list = (await api.app.inject({ url: '/v1/feeds', headers: admin })).json() as { feeds: object[] };
    expect(list.feeds).toEqual(
      expect.arrayContaining([
        { ...html, intervalSeconds: 300, enabled: true, source: 'api' },
        expect.objectContaining({ id: 'fr-bis', type: 'federalregister', agencies: ['industry-and-security-bureau'] }),
        expect.objectContaining({ id: 'el-page', type: 'page', selector: '#list' }),
      ]),
    );
    expect(list.feeds.find((f) => (f as { id: string }).id === 'plain')).not.toHaveProperty('type');
    const put = await api.app.inject({
      method: 'PUT',
      url: '/v1/feeds/el-page',
      headers: admin,
      payload: { type: 'page', url: 'https://example.gov/supp4', selector: 'main table' },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ id: 'el-page', selector: 'main table', source: 'api' });
  });

  it('answers 400 naming the bad field of a source', async () => {
    const admin = await api.headers('admin');
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/feeds',
      headers: admin,
      payload: { ...html, id: 'bad', selectors: { title: 'a', link: 'a@href' } },
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toContain('selectors.item');
    const fr = await api.app.inject({
      method: 'POST',
      url: '/v1/feeds',
      headers: admin,
      payload: { id: 'fr-x', type: 'federalregister' },
    });
    expect(fr.statusCode).toBe(400);
    expect(JSON.stringify(fr.json())).toContain('give exactly one of `url`');
  });

  it('documents every source type in the OpenAPI document', async () => {
    const doc = (await api.app.inject({ url: '/docs/json' })).json() as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { oneOf?: unknown[] } }> } }>
      >;
    };
    const body = doc.paths['/v1/feeds']?.['post']?.requestBody?.content['application/json']?.schema;
    expect(JSON.stringify(body)).toContain('federalregister');
    expect(body?.oneOf).toHaveLength(4);
  });
});
