import { silentLogger } from '@regwatch/logger';
import { createRedis, startHeartbeat } from '@regwatch/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './server.js';
import { createTestApi } from './testing.js';

let api: Awaited<ReturnType<typeof createTestApi>>;
beforeAll(async () => {
  api = await createTestApi({ rateLimit: { max: 5, timeWindowMs: 60_000 } });
});
afterAll(async () => {
  await api.close();
});

describe('api basics (real Redis)', () => {
  it('answers health openly, and readiness per service', async () => {
    expect((await api.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const unready = await api.app.inject('/readyz');
    expect(unready.statusCode).toBe(503);
    expect(unready.json()).toMatchObject({
      status: 'unready',
      redis: 'ok',
      missing: ['poller', 'classifier', 'notifier'],
    });
    const beats = ['poller', 'classifier', 'notifier', 'api'].map((s) => startHeartbeat(api.redis, api.prefix, s));
    try {
      await new Promise((r) => setTimeout(r, 50));
      const ready = await api.app.inject('/readyz');
      expect(ready.statusCode).toBe(200);
      const body = ready.json();
      expect(body.status).toBe('ready');
      expect(body.services.poller).toMatchObject({ required: true, live: 1 });
      expect(body.services.api).toMatchObject({ required: false, live: 1 });
    } finally {
      for (const b of beats) await b.close();
    }
    // The notifier's heartbeat is gone: unready again, and it says which.
    const again = await api.app.inject('/readyz');
    expect(again.statusCode).toBe(503);
    expect(again.json().missing).toEqual(['poller', 'classifier', 'notifier']);
  });

  it('makes the required set configurable', async () => {
    const app = buildServer({ connection: api.redis, prefix: api.prefix, log: silentLogger(), requiredServices: [] });
    try {
      expect((await app.inject('/readyz')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('401 without or with an unknown token, 403 for a role the route does not admit', async () => {
    expect((await api.app.inject('/v1/queues')).statusCode).toBe(401);
    const bad = await api.app.inject({ url: '/v1/queues', headers: { authorization: 'Bearer rw_nope' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject({ error: 'UNAUTHORIZED' });
    const team = await api.app.inject({ url: '/v1/queues', headers: await api.headers('team:chips') });
    expect(team.statusCode).toBe(403);
    expect(team.json().message).toBe('role "team:chips" may not GET /v1/queues (allowed: admin, ops)');
    // An unknown route is 404 to a valid token (and 401 without one).
    const unknown = await api.app.inject({ url: '/v1/nope', headers: await api.headers('ops') });
    expect(unknown.statusCode).toBe(404);
    expect((await api.app.inject({ url: '/v1/nope' })).statusCode).toBe(401);
    const ops = await api.app.inject({ url: '/v1/queues', headers: await api.headers('ops') });
    expect(ops.statusCode).toBe(200);
    expect(Object.keys(ops.json().queues).sort()).toEqual(['alerts', 'deliveries', 'items', 'ops', 'polls']);
    const me = await api.app.inject({ url: '/v1/me', headers: await api.headers('team:chips') });
    expect(me.json()).toMatchObject({ role: 'team:chips', team: 'chips' });
  });

  it('revoked tokens stop working at once; tokens are stored hashed', async () => {
    const { token, record } = await api.app.ctx.tokens.create('admin', 'to revoke');
    const keys = await api.redis.keys(`{${api.prefix}}:api-token*`);
    for (const key of keys) {
      const type = await api.redis.type(key);
      const values = type === 'hash' ? Object.values(await api.redis.hgetall(key)) : [];
      expect([key, ...values].some((v) => v.includes(token))).toBe(false);
    }
    const headers = { authorization: `Bearer ${token}` };
    expect((await api.app.inject({ url: '/v1/me', headers })).statusCode).toBe(200);
    expect(await api.app.ctx.tokens.revoke(record.id)).toBe(true);
    expect((await api.app.inject({ url: '/v1/me', headers })).statusCode).toBe(401);
    expect(await api.app.ctx.tokens.revoke(record.id)).toBe(false);
  });

  it('rate-limits per token', async () => {
    const { token } = await api.app.ctx.tokens.create('ops', 'limited');
    const headers = { authorization: `Bearer ${token}` };
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await api.app.inject({ url: '/v1/me', headers })).statusCode);
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
    // Another token has its own budget.
    expect((await api.app.inject({ url: '/v1/me', headers: await api.headers('admin') })).statusCode).toBe(200);
    // Probes are never limited.
    for (let i = 0; i < 7; i++) expect((await api.app.inject('/healthz')).statusCode).toBe(200);
  });

  it('lists every route in the OpenAPI document and serves the viewer at /docs', async () => {
    const doc = (await api.app.inject('/docs/json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const expected = [
      'GET /healthz',
      'GET /readyz',
      'GET /v1/queues',
      'GET /v1/me',
      'GET /v1/feeds',
      'POST /v1/feeds',
      'GET /v1/feeds/{id}',
      'PUT /v1/feeds/{id}',
      'DELETE /v1/feeds/{id}',
      'GET /v1/feeds/{id}/health',
      'GET /v1/subscriptions',
      'POST /v1/subscriptions',
      'GET /v1/subscriptions/{id}',
      'PUT /v1/subscriptions/{id}',
      'DELETE /v1/subscriptions/{id}',
      'POST /v1/subscriptions/{id}/pause',
      'POST /v1/subscriptions/{id}/resume',
      'POST /v1/subscriptions/{id}/test',
      'GET /v1/alerts',
      'GET /v1/alerts/{id}',
      'GET /v1/deliveries',
      'GET /v1/deliveries/{id}',
      'POST /v1/deliveries/{id}/replay',
      'POST /v1/deliveries/replay',
      'GET /v1/unsubscribe',
      'POST /v1/unsubscribe',
      'GET /metrics',
    ];
    for (const route of expected) expect(documented, route).toContain(route);
    // Nothing registered is missing: every non-docs route the server has is documented.
    // The browser console under /ops is no part of the API document.
    const registered = api.app.registeredRoutes.filter(
      (r) => !r.startsWith('GET /docs') && !r.startsWith('HEAD ') && !/^[A-Z]+ \/ops(\/|$)/.test(r),
    );
    for (const route of registered) expect(documented, route).toContain(route);
    expect(registered.length).toBe(expected.length);
    // Bodies come from the config's zod schemas; protected routes say they need a token.
    expect(doc.paths['/v1/subscriptions'].post.requestBody.content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['id', 'team', 'channels']),
    );
    expect(doc.paths['/v1/feeds'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/healthz'].get.security).toBeUndefined();
    const ui = await api.app.inject('/docs/');
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });

  it('reports unready, not a hang, when Redis is unreachable', async () => {
    const dead = createRedis('redis://127.0.0.1:1', 'producer', { retryStrategy: () => null });
    dead.on('error', () => {});
    const app = buildServer({ connection: dead, prefix: api.prefix, log: silentLogger() });
    try {
      const res = await app.inject('/readyz');
      expect(res.statusCode).toBe(503);
      expect(res.json().status).toBe('unready');
    } finally {
      await app.close();
      dead.disconnect();
    }
  });
});
