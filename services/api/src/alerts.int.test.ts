import { type Alert, AlertSchema, SubscriptionSchema } from '@regwatch/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from './testing.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const T0 = Date.parse('2025-11-20T10:00:00.000Z');

function alert(n: number, extra: Partial<Alert> = {}): Alert {
  const id = `a-${String(n).padStart(3, '0')}`;
  return AlertSchema.parse({
    id,
    storyId: `s-${id}`,
    itemId: `i-${id}`,
    feedId: 'fr-bis',
    title: `Story ${n}`,
    summary: 'Routine notice.',
    published: new Date(T0).toISOString(),
    score: 0.5,
    severity: 'notice',
    topics: ['sanctions'],
    jurisdictions: ['US'],
    entities: [],
    evidence: [],
    rulesVersion: 'test',
    sources: [{ feedId: 'fr-bis', itemId: `i-${id}`, title: `Story ${n}`, published: new Date(T0).toISOString() }],
    // Three alerts per millisecond, so pages must split ties correctly.
    createdAt: new Date(T0 + Math.floor(n / 3)).toISOString(),
    ...extra,
  });
}

const fileSubscriptions = [
  SubscriptionSchema.parse({
    id: 'chips-cn',
    team: 'chips',
    filter: { topics: ['export_controls'], jurisdictions: ['CN'] },
    channels: [{ type: 'webhook', url: 'https://hooks.example.com/x', secret: SECRET }],
  }),
  SubscriptionSchema.parse({
    id: 'autos-all',
    team: 'autos',
    channels: [{ type: 'email', to: ['autos@example.com'] }],
  }),
];

let api: Awaited<ReturnType<typeof createTestApi>>;
beforeAll(async () => {
  api = await createTestApi({ fileSubscriptions });
  for (let n = 0; n < 30; n++) await api.app.ctx.alerts.save(alert(n));
  await api.app.ctx.alerts.save(
    alert(30, {
      title: 'China customs inspect every chip shipment',
      summary: 'Customs now inspect semiconductor imports to stop NVIDIA H20.',
      severity: 'high',
      topics: ['export_controls', 'customs_enforcement'],
      jurisdictions: ['CN'],
      entities: ['NVIDIA', 'H20'],
      storyId: 's-h20',
      identifiers: [
        { kind: 'eccn', value: '3A090.a' },
        { kind: 'hs', value: '8542.31' },
      ],
    }),
  );
  await api.app.ctx.alerts.save(
    alert(31, {
      feedId: 'news-zh',
      title: 'Same story, another outlet',
      topics: ['export_controls'],
      jurisdictions: ['CN'],
      storyId: 's-h20',
      identifiers: [{ kind: 'eccn', value: '3A001' }],
      sources: [{ feedId: 'news-zh', itemId: 'i-zh', title: 'Same story', published: new Date(T0).toISOString() }],
    }),
  );
  const log = api.app.ctx.notifier.deliveryLog;
  for (const [deliveryId, subscriptionId, channel] of [
    ['d-chips', 'chips-cn', 'webhook'],
    ['d-autos', 'autos-all', 'email'],
  ] as const) {
    await log.record(
      {
        deliveryId,
        alertId: 'a-030',
        subscriptionId,
        channel,
        attempt: 1,
        at: new Date(T0 + 100).toISOString(),
        ok: true,
        code: 200,
        latencyMs: 12,
      },
      { storyIds: ['s-h20'], kind: 'alert', sources: 2 },
    );
  }
});
afterAll(async () => {
  await api.close();
});

type Page = { alerts: Alert[]; nextCursor?: string; scanned: number };

async function get(url: string, role: Parameters<typeof api.headers>[0] = 'ops'): Promise<Page> {
  const res = await api.app.inject({ url, headers: await api.headers(role) });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return res.json();
}

describe('alerts over the API (real Redis)', () => {
  it('pages newest first with a cursor, every alert once, ties within a millisecond included', async () => {
    const seen: string[] = [];
    let url = '/v1/alerts?limit=7';
    for (let i = 0; i < 10; i++) {
      const page = await get(url);
      seen.push(...page.alerts.map((a) => a.id));
      if (!page.nextCursor) break;
      url = `/v1/alerts?limit=7&cursor=${page.nextCursor}`;
    }
    expect(seen).toHaveLength(32);
    expect(new Set(seen).size).toBe(32);
    expect(seen[0]).toBe('a-031');
    expect(seen[31]).toBe('a-000');
  });

  it('filters by topic, jurisdiction, entity, severity, feed, time range and text', async () => {
    const ids = async (query: string) => (await get(`/v1/alerts?${query}`)).alerts.map((a) => a.id);
    expect(await ids('topic=customs_enforcement')).toEqual(['a-030']);
    expect(await ids('topic=customs_enforcement,export_controls')).toEqual(['a-031', 'a-030']);
    expect(await ids('jurisdiction=CN&topic=export_controls')).toEqual(['a-031', 'a-030']);
    expect(await ids('entity=nvidia')).toEqual(['a-030']);
    expect(await ids('severity=high')).toEqual(['a-030']);
    expect(await ids('minSeverity=high')).toEqual(['a-030']);
    expect(await ids('feed=news-zh')).toEqual(['a-031']);
    expect(await ids('q=SEMICONDUCTOR%20h20')).toEqual(['a-030']);
    expect(await ids('q=semiconductor%20tariff')).toEqual([]);
    // createdAt of a-003..a-005 is T0+1 ms, a-006..a-008 T0+2 ms.
    const from = new Date(T0 + 1).toISOString();
    const to = new Date(T0 + 3).toISOString();
    expect(await ids(`from=${from}&to=${to}`)).toEqual(['a-008', 'a-007', 'a-006', 'a-005', 'a-004', 'a-003']);
    const bad = await api.app.inject({
      url: '/v1/alerts?topic=weather&from=yesterday&limit=0',
      headers: await api.headers('ops'),
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .problems.map((p: string) => p.split(':')[0])
        .sort(),
    ).toEqual(['from', 'limit', 'topic[0]']);
  });

  it('filters by trade-control identifier, a watched parent matching its children', async () => {
    const ids = async (query: string) => (await get(`/v1/alerts?${query}`)).alerts.map((a) => a.id);
    expect(await ids('identifier=3A090')).toEqual(['a-030']);
    expect(await ids('identifier=3A090.b')).toEqual([]);
    expect(await ids('identifier=HS%208542')).toEqual(['a-030']);
    expect(await ids('identifier=3A001,8542.31')).toEqual(['a-031', 'a-030']);
    expect(await ids('identifier=3A001&identifier=3A090')).toEqual(['a-031', 'a-030']);
    const bad = await api.app.inject({ url: '/v1/alerts?identifier=3A090,NVIDIA', headers: await api.headers('ops') });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().problems).toEqual([expect.stringMatching(/^identifier\[1\]: not a trade-control identifier/)]);
  });

  it('shows a team only the alerts its subscriptions match', async () => {
    expect((await get('/v1/alerts', 'team:chips')).alerts.map((a) => a.id)).toEqual(['a-031', 'a-030']);
    expect((await get('/v1/alerts?limit=100', 'team:autos')).alerts).toHaveLength(32);
    const hidden = await api.app.inject({ url: '/v1/alerts/a-001', headers: await api.headers('team:chips') });
    expect(hidden.statusCode).toBe(404);
  });

  it('returns one alert with its evidence, every source of its story and its deliveries', async () => {
    const res = await api.app.inject({ url: '/v1/alerts/a-030', headers: await api.headers('ops') });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.alert).toMatchObject({ id: 'a-030', entities: ['NVIDIA', 'H20'], evidence: [] });
    expect(body.story.alertIds.sort()).toEqual(['a-030', 'a-031']);
    expect(body.story.sources.map((s: { feedId: string }) => s.feedId).sort()).toEqual(['fr-bis', 'news-zh']);
    expect(body.deliveries.map((d: { deliveryId: string }) => d.deliveryId).sort()).toEqual(['d-autos', 'd-chips']);
    expect(body.deliveries[0].attempts[0]).toMatchObject({ ok: true, code: 200 });
    const team = await api.app.inject({ url: '/v1/alerts/a-030', headers: await api.headers('team:chips') });
    expect(team.json().deliveries.map((d: { deliveryId: string }) => d.deliveryId)).toEqual(['d-chips']);
    expect((await api.app.inject({ url: '/v1/alerts/nope', headers: await api.headers('admin') })).statusCode).toBe(
      404,
    );
    expect((await api.app.inject({ url: '/v1/alerts/a-030' })).statusCode).toBe(401);
  });
});
