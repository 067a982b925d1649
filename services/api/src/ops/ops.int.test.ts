import { type Alert, AlertSchema, FeedSourceSchema, QUEUES } from '@regwatch/contracts';
import { bullPrefix, createRedis } from '@regwatch/queue';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from '../testing.js';
import { REDACTED } from './redact.js';

const HOST = '127.0.0.1:8080';
const ORIGIN = `http://${HOST}`;
const BOARD = '/ops/queues/api/queues';
const DATA = {
  v: 1,
  deliveryId: 'd-1',
  alertId: 'a-1',
  storyId: 's-1',
  subscriptionId: 'sub-private',
  channelKey: 'w0',
};

let api: Awaited<ReturnType<typeof createTestApi>>;

/** A delivery job that really failed, through a BullMQ worker, as the notifier's would. */
async function failDelivery(jobId: string): Promise<void> {
  const queue = api.app.ctx.queues.deliveries;
  await queue.add('deliver', { ...DATA, deliveryId: jobId }, { jobId, attempts: 1 });
  const connection = createRedis(process.env.REDIS_URL, 'worker');
  const worker = new Worker(
    QUEUES.deliveries,
    async () => {
      throw new UnrecoverableError('WEBHOOK_GONE: hooks.example.com answered 410');
    },
    { connection, prefix: bullPrefix(api.prefix) },
  );
  try {
    await new Promise<void>((resolve) => worker.on('failed', (job) => job?.id === jobId && resolve()));
  } finally {
    await worker.close();
    await connection.quit();
  }
}

function alert(id: string, topics: string[], createdAt: string): Alert {
  return AlertSchema.parse({
    id,
    storyId: `s-${id}`,
    itemId: `i-${id}`,
    feedId: 'evil',
    title: 'Story <b>bold</b>',
    summary: 'x',
    published: createdAt,
    score: 0.5,
    severity: 'notice',
    topics,
    jurisdictions: ['US'],
    entities: [],
    evidence: [],
    rulesVersion: 'test',
    sources: [{ feedId: 'evil', itemId: `i-${id}`, title: 't', published: createdAt }],
    createdAt,
  });
}

beforeAll(async () => {
  api = await createTestApi({
    rateLimit: false,
    fileFeeds: [
      FeedSourceSchema.parse({ id: 'evil', url: 'https://example.com/feed', title: '<script>alert(1)</script>' }),
      FeedSourceSchema.parse({ id: 'quiet', url: 'https://example.org/rss' }),
    ],
  });
  await failDelivery('d-1');
});
afterAll(async () => {
  await api?.close();
});

const cookieOf = async (role: 'ops' | 'admin') => `rw_ops=${encodeURIComponent(await api.tokenFor(role))}`;

describe('ops console auth', () => {
  it('sends browsers without a login to /ops/login and API clients a 401', async () => {
    const page = await api.app.inject({ url: '/ops/', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe('/ops/login');
    const board = await api.app.inject({ url: BOARD });
    expect(board.statusCode).toBe(401);
    expect(board.json()).toMatchObject({ error: 'UNAUTHORIZED' });
    const login = await api.app.inject({ url: '/ops/login' });
    expect(login.statusCode).toBe(200);
    expect(login.body).toContain('<form method="post" action="/ops/login">');
  });

  it('refuses team tokens, by header or cookie', async () => {
    const team = await api.tokenFor('team:chips');
    expect((await api.app.inject({ url: BOARD, headers: await api.headers('team:chips') })).statusCode).toBe(403);
    const viaCookie = await api.app.inject({ url: BOARD, headers: { cookie: `rw_ops=${team}` } });
    expect(viaCookie.statusCode).toBe(403);
  });

  it('logs in with a pasted token: HttpOnly SameSite=Strict cookie for /ops only', async () => {
    const token = await api.tokenFor('ops');
    const res = await api.app.inject({
      method: 'POST',
      url: '/ops/login',
      headers: { host: HOST, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token }).toString(),
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/ops/');
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^rw_ops=rw_/);
    for (const attr of ['HttpOnly', 'SameSite=Strict', 'Path=/ops']) expect(cookie).toContain(attr);
    const jar = cookie.split(';')[0] ?? '';
    expect((await api.app.inject({ url: '/ops/', headers: { cookie: jar } })).statusCode).toBe(200);
    // The cookie is no API credential: /v1 wants the bearer header.
    expect((await api.app.inject({ url: '/v1/queues', headers: { cookie: jar } })).statusCode).toBe(401);
    // A wrong token, and a login posted from another site.
    const bad = await api.app.inject({
      method: 'POST',
      url: '/ops/login',
      headers: { host: HOST, origin: ORIGIN },
      payload: { token: 'rw_nope' },
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['set-cookie']).toBeUndefined();
    const cross = await api.app.inject({
      method: 'POST',
      url: '/ops/login',
      headers: { host: HOST, 'sec-fetch-site': 'cross-site' },
      payload: { token },
    });
    expect(cross.statusCode).toBe(403);
    const out = await api.app.inject({ method: 'POST', url: '/ops/logout', headers: { host: HOST, origin: ORIGIN } });
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
  });
});

describe('bull-board over every queue', () => {
  it('lists the four queues; ops sees job data redacted and queues read-only', async () => {
    const url = `${BOARD}?activeQueue=deliveries&status=failed&page=1&jobsPerPage=10`;
    const ops = await api.app.inject({ url, headers: { cookie: await cookieOf('ops') } });
    expect(ops.statusCode).toBe(200);
    const body = ops.json();
    expect(body.queues.map((q: { name: string }) => q.name).sort()).toEqual([
      'alerts',
      'deliveries',
      'items',
      'ops',
      'polls',
    ]);
    const deliveries = body.queues.find((q: { name: string }) => q.name === 'deliveries');
    expect(deliveries.readOnlyMode).toBe(true);
    expect(deliveries.counts.failed).toBe(1);
    expect(deliveries.jobs[0]).toMatchObject({ id: 'd-1', data: REDACTED });
    expect(ops.body).not.toContain('sub-private');
    const job = await api.app.inject({ url: `${BOARD}/deliveries/d-1`, headers: await api.headers('ops') });
    expect(job.statusCode).toBe(200);
    expect(job.json().job).toMatchObject({ id: 'd-1', data: REDACTED });
    expect(job.body).not.toContain('sub-private');
    const logs = await api.app.inject({ url: `${BOARD}/deliveries/d-1/logs`, headers: await api.headers('ops') });
    expect(logs.json()).toEqual([REDACTED]);
    // Admin sees the payload and may act.
    const admin = await api.app.inject({ url, headers: await api.headers('admin') });
    const adminDeliveries = admin.json().queues.find((q: { name: string }) => q.name === 'deliveries');
    expect(adminDeliveries.readOnlyMode).toBe(false);
    expect(adminDeliveries.jobs[0].data).toEqual(DATA);
  });

  it('ops may not retry or clean, even from this origin', async () => {
    const headers = { cookie: await cookieOf('ops'), host: HOST, origin: ORIGIN };
    for (const path of ['/deliveries/d-1/retry', '/deliveries/retry/failed', '/deliveries/clean/failed']) {
      const res = await api.app.inject({ method: 'PUT', url: `${BOARD}${path}`, headers });
      expect(res.statusCode, path).toBe(403);
    }
    expect(await api.app.ctx.queues.deliveries.getJobState('d-1')).toBe('failed');
  });

  it('admin writes need this origin; add and other writes are refused to all', async () => {
    const cookie = await cookieOf('admin');
    const retry = `${BOARD}/deliveries/d-1/retry`;
    const none = await api.app.inject({ method: 'PUT', url: retry, headers: { cookie, host: HOST } });
    expect(none.statusCode).toBe(403);
    expect(none.json()).toMatchObject({ error: 'CROSS_SITE' });
    const foreign = await api.app.inject({
      method: 'PUT',
      url: retry,
      headers: { cookie, host: HOST, origin: 'https://evil.example' },
    });
    expect(foreign.statusCode).toBe(403);
    const crossSite = await api.app.inject({
      method: 'PUT',
      url: retry,
      headers: { cookie, host: HOST, 'sec-fetch-site': 'cross-site', origin: ORIGIN },
    });
    expect(crossSite.statusCode).toBe(403);
    expect(await api.app.ctx.queues.deliveries.getJobState('d-1')).toBe('failed');

    for (const [method, path] of [
      ['POST', '/deliveries/add'],
      ['PUT', '/deliveries/obliterate'],
      ['PUT', '/deliveries/empty'],
      ['PATCH', '/deliveries/d-1/update-data'],
    ] as const) {
      const res = await api.app.inject({
        method,
        url: `${BOARD}${path}`,
        headers: { cookie, host: HOST, origin: ORIGIN, 'sec-fetch-site': 'same-origin' },
        payload: { name: 'deliver', data: DATA },
      });
      expect(res.statusCode, path).toBe(403);
    }
    expect(await api.app.ctx.queues.deliveries.getJobCounts('waiting', 'failed')).toMatchObject({
      waiting: 0,
      failed: 1,
    });

    const ok = await api.app.inject({
      method: 'PUT',
      url: retry,
      headers: { cookie, host: HOST, origin: ORIGIN, 'sec-fetch-site': 'same-origin' },
    });
    expect(ok.statusCode).toBeLessThan(300);
    expect(await api.app.ctx.queues.deliveries.getJobState('d-1')).toBe('waiting');
  });

  it('serves the board page to a logged-in browser', async () => {
    const res = await api.app.inject({ url: '/ops/queues', headers: { cookie: await cookieOf('ops') } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('<base href="/ops/queues/"');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.body).not.toMatch(/(src|href)="https?:/);
  });
});

describe('overview: feed health and alert volume', () => {
  it('shows feed health and a per-topic chart, every feed text escaped', async () => {
    await api.app.ctx.feedState.update('evil', {
      lastAttemptAt: new Date().toISOString(),
      lastError: 'PARSE_FAILED: <img src=x onerror=alert(2)>',
      lastStatus: 200,
      consecutiveFailures: 3,
      nextPollAt: '2030-01-01T00:00:00.000Z',
    });
    const now = new Date().toISOString();
    await api.app.ctx.alerts.save(alert('a1', ['sanctions', 'export_controls'], now));
    await api.app.ctx.alerts.save(alert('a2', ['sanctions'], now));
    const res = await api.app.inject({ url: '/ops', headers: { cookie: await cookieOf('ops') } });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('<script>');
    expect(res.body).not.toContain('<img');
    expect(res.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.body).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(res.body).toMatch(/<td class="failing">failing \(200\)<\/td>/);
    expect(res.body).toContain('<time datetime="2030-01-01T00:00:00.000Z">');
    expect(res.body).toMatch(/<td class="never">never<\/td>/);
    expect(res.body).toContain('<svg id="alert-volume"');
    expect(res.body).toContain('sanctions (2)');
    expect(res.body).toContain('export_controls (1)');
    // Nothing loads from elsewhere: the machine may be offline.
    expect(res.body).not.toMatch(/(src|href)="https?:/);
  });
});
