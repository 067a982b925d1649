import { FeedSourceSchema, SubscriptionSchema } from '@regwatch/contracts';
import { createLiveCatalog } from '@regwatch/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from './testing.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const fileFeeds = [FeedSourceSchema.parse({ id: 'fr-bis', url: 'https://www.federalregister.gov/bis.rss' })];
const fileSubscriptions = [
  SubscriptionSchema.parse({
    id: 'file-sub',
    team: 'chips',
    channels: [{ type: 'webhook', url: 'https://hooks.example.com/x', secret: SECRET }],
  }),
];

let api: Awaited<ReturnType<typeof createTestApi>>;
beforeAll(async () => {
  api = await createTestApi({ fileFeeds, fileSubscriptions });
});
afterAll(async () => {
  await api.close();
});

describe('feeds over the API (real Redis)', () => {
  it('creates, lists, reads with health, replaces and removes; workers see it without a restart', async () => {
    const admin = await api.headers('admin');
    const catalog = createLiveCatalog({
      redis: api.redis,
      prefix: api.prefix,
      fileFeeds,
      fileSubscriptions,
      pollIntervalMs: 100,
    });
    try {
      await catalog.ready;
      const before = catalog.feeds();
      const created = await api.app.inject({
        method: 'POST',
        url: '/v1/feeds',
        headers: admin,
        payload: { id: 'api-feed', url: 'https://example.com/feed.xml', intervalSeconds: 60 },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ id: 'api-feed', source: 'api', enabled: true });
      await expect.poll(() => catalog.feeds().map((f) => f.id), { timeout: 3_000 }).toEqual(['fr-bis', 'api-feed']);
      expect(catalog.feeds()).not.toBe(before);

      const list = await api.app.inject({ url: '/v1/feeds?health=true', headers: await api.headers('ops') });
      expect(list.json().feeds).toMatchObject([
        { id: 'fr-bis', source: 'file', health: { consecutiveFailures: 0 } },
        { id: 'api-feed', source: 'api' },
      ]);
      await api.app.ctx.feedState.update('api-feed', { lastStatus: 200, lastSuccessAt: '2025-11-20T10:00:00.000Z' });
      const one = await api.app.inject({ url: '/v1/feeds/api-feed', headers: admin });
      expect(one.json()).toMatchObject({ id: 'api-feed', health: { lastStatus: 200 } });
      const health = await api.app.inject({ url: '/v1/feeds/api-feed/health', headers: admin });
      expect(health.json()).toMatchObject({ lastSuccessAt: '2025-11-20T10:00:00.000Z', itemsSeen: 0 });

      const put = await api.app.inject({
        method: 'PUT',
        url: '/v1/feeds/api-feed',
        headers: admin,
        payload: { url: 'https://example.com/feed2.xml', enabled: false },
      });
      expect(put.statusCode).toBe(200);
      await expect.poll(() => catalog.feeds()[1]?.enabled, { timeout: 3_000 }).toBe(false);

      const del = await api.app.inject({ method: 'DELETE', url: '/v1/feeds/api-feed', headers: admin });
      expect(del.statusCode).toBe(204);
      await expect.poll(() => catalog.feeds().length, { timeout: 3_000 }).toBe(1);
      expect((await api.app.inject({ url: '/v1/feeds/api-feed', headers: admin })).statusCode).toBe(404);
      expect((await api.app.inject({ method: 'DELETE', url: '/v1/feeds/api-feed', headers: admin })).statusCode).toBe(
        404,
      );
    } finally {
      await catalog.close();
    }
  });

  it('names every bad field (400), refuses config-file ids and taken ids (409), keeps feeds from ops and teams (403)', async () => {
    const admin = await api.headers('admin');
    const bad = await api.app.inject({
      method: 'POST',
      url: '/v1/feeds',
      headers: admin,
      payload: { id: 'Bad Id', url: 'ftp://example.com', intervalSeconds: 5 },
    });
    expect(bad.statusCode).toBe(400);
    const problems: string[] = bad.json().problems;
    expect(problems.some((p) => p.startsWith('id:'))).toBe(true);
    expect(problems).toContain('url: must be an http(s) URL');
    expect(problems.some((p) => p.startsWith('intervalSeconds:'))).toBe(true);
    expect(problems).toHaveLength(3);

    const file = await api.app.inject({
      method: 'POST',
      url: '/v1/feeds',
      headers: admin,
      payload: { id: 'fr-bis', url: 'https://example.com/x.xml' },
    });
    expect(file.statusCode).toBe(409);
    expect(file.json().message).toMatch(/config file/);
    for (const method of ['PUT', 'DELETE'] as const) {
      const res = await api.app.inject({
        method,
        url: '/v1/feeds/fr-bis',
        headers: admin,
        ...(method === 'PUT' ? { payload: { url: 'https://example.com/x.xml' } } : {}),
      });
      expect(res.statusCode, method).toBe(409);
    }
    const payload = { id: 'twice', url: 'https://example.com/t.xml' };
    expect((await api.app.inject({ method: 'POST', url: '/v1/feeds', headers: admin, payload })).statusCode).toBe(201);
    expect((await api.app.inject({ method: 'POST', url: '/v1/feeds', headers: admin, payload })).statusCode).toBe(409);

    const ops = await api.app.inject({ method: 'POST', url: '/v1/feeds', headers: await api.headers('ops'), payload });
    expect(ops.statusCode).toBe(403);
    const team = await api.app.inject({ url: '/v1/feeds', headers: await api.headers('team:chips') });
    expect(team.statusCode).toBe(403);
    expect((await api.app.inject({ url: '/v1/feeds' })).statusCode).toBe(401);
  });
});

const sub = (id: string, team: string, extra: Record<string, unknown> = {}) => ({
  id,
  team,
  filter: { topics: ['export_controls'] },
  channels: [
    { type: 'webhook', url: 'https://hooks.example.com/a', secret: SECRET },
    { type: 'email', to: ['desk@example.com'] },
  ],
  ...extra,
});

describe('subscriptions over the API (real Redis)', () => {
  it("lets a team manage its own, hides other teams' (404) and refuses moving into another team (403)", async () => {
    const chips = await api.headers('team:chips');
    const autos = await api.headers('team:autos');
    const created = await api.app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: chips,
      payload: sub('chips-api', 'chips'),
    });
    expect(created.statusCode).toBe(201);
    // Secrets never come back.
    expect(created.json().channels[0].secret).toBe('[redacted]');
    expect(JSON.stringify(created.json())).not.toContain(SECRET);

    const wrongTeam = await api.app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: chips,
      payload: sub('sneaky', 'autos'),
    });
    expect(wrongTeam.statusCode).toBe(403);

    const mine = await api.app.inject({ url: '/v1/subscriptions', headers: chips });
    expect(mine.json().subscriptions.map((s: { id: string }) => s.id)).toEqual(['file-sub', 'chips-api']);
    const theirs = await api.app.inject({ url: '/v1/subscriptions', headers: autos });
    expect(theirs.json().subscriptions).toEqual([]);
    for (const [method, url] of [
      ['GET', '/v1/subscriptions/chips-api'],
      ['DELETE', '/v1/subscriptions/chips-api'],
      ['POST', '/v1/subscriptions/chips-api/pause'],
      ['POST', '/v1/subscriptions/chips-api/test'],
    ] as const) {
      const res = await api.app.inject({ method, url, headers: autos });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    const hijack = await api.app.inject({
      method: 'PUT',
      url: '/v1/subscriptions/chips-api',
      headers: autos,
      payload: sub('chips-api', 'autos'),
    });
    expect(hijack.statusCode).toBe(404);
    const ops = await api.app.inject({ url: '/v1/subscriptions', headers: await api.headers('ops') });
    expect(ops.json().subscriptions).toHaveLength(2);
    const opsWrite = await api.app.inject({
      method: 'POST',
      url: '/v1/subscriptions/chips-api/pause',
      headers: await api.headers('ops'),
    });
    expect(opsWrite.statusCode).toBe(403);

    const put = await api.app.inject({
      method: 'PUT',
      url: '/v1/subscriptions/chips-api',
      headers: chips,
      payload: sub('chips-api', 'chips', { name: 'Chips desk', mode: 'immediate' }),
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ name: 'Chips desk', source: 'api' });
    const del = await api.app.inject({ method: 'DELETE', url: '/v1/subscriptions/chips-api', headers: chips });
    expect(del.statusCode).toBe(204);
    expect((await api.app.inject({ url: '/v1/subscriptions/chips-api', headers: chips })).statusCode).toBe(404);
  });

  it('validates with the config schema, naming every bad field', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: await api.headers('admin'),
      payload: {
        id: 'x',
        team: 'Chips!',
        filter: { topics: ['weather'] },
        channels: [{ type: 'webhook', url: 'javascript:alert(1)', secret: 'hunter2' }],
      },
    });
    expect(res.statusCode).toBe(400);
    const problems: string[] = res.json().problems;
    expect(problems).toContain('channels[0].url: must be an http(s) URL');
    expect(problems.some((p) => p.startsWith('channels[0].secret:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('team:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('filter.topics[0]:'))).toBe(true);
  });

  it('keeps config-file subscriptions read-only (409) but lets them be paused and resumed; workers follow', async () => {
    const chips = await api.headers('team:chips');
    const catalog = createLiveCatalog({
      redis: api.redis,
      prefix: api.prefix,
      fileFeeds,
      fileSubscriptions,
      pollIntervalMs: 100,
    });
    try {
      await catalog.ready;
      const put = await api.app.inject({
        method: 'PUT',
        url: '/v1/subscriptions/file-sub',
        headers: chips,
        payload: sub('file-sub', 'chips'),
      });
      expect(put.statusCode).toBe(409);
      const post = await api.app.inject({
        method: 'POST',
        url: '/v1/subscriptions',
        headers: chips,
        payload: sub('file-sub', 'chips'),
      });
      expect(post.statusCode).toBe(409);
      const del = await api.app.inject({ method: 'DELETE', url: '/v1/subscriptions/file-sub', headers: chips });
      expect(del.statusCode).toBe(409);

      const before = catalog.subscriptions();
      const paused = await api.app.inject({ method: 'POST', url: '/v1/subscriptions/file-sub/pause', headers: chips });
      expect(paused.statusCode).toBe(200);
      expect(paused.json()).toMatchObject({ id: 'file-sub', paused: true, source: 'file' });
      await expect.poll(() => catalog.subscriptions()[0]?.paused, { timeout: 3_000 }).toBe(true);
      expect(catalog.subscriptions()).not.toBe(before);
      const test = await api.app.inject({ method: 'POST', url: '/v1/subscriptions/file-sub/test', headers: chips });
      expect(test.statusCode).toBe(409);
      const resumed = await api.app.inject({
        method: 'POST',
        url: '/v1/subscriptions/file-sub/resume',
        headers: chips,
      });
      expect(resumed.json().paused).toBe(false);
      await expect.poll(() => catalog.subscriptions()[0]?.paused, { timeout: 3_000 }).toBe(false);
    } finally {
      await catalog.close();
    }
  });
});
