import { readFileSync } from 'node:fs';
import { type Alert, AlertSchema, FeedSourceSchema, QUEUES } from '@regwatch/contracts';
import { silentLogger } from '@regwatch/logger';
import { bullPrefix, createRedis, startHeartbeat } from '@regwatch/queue';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../server.js';
import { createTestApi } from '../testing.js';

const DASHBOARD = new URL('../../../../infra/grafana/regwatch.json', import.meta.url);

let api: Awaited<ReturnType<typeof createTestApi>>;
let exposition = '';
let beat: { close(): Promise<void> } | undefined;

function alert(id: string, topics: string[], createdAt: string): Alert {
  return AlertSchema.parse({
    id,
    storyId: `s-${id}`,
    itemId: `i-${id}`,
    feedId: 'fr-bis',
    title: 't',
    summary: 's',
    published: createdAt,
    score: 0.7,
    severity: 'high',
    topics,
    jurisdictions: ['CN'],
    entities: [],
    evidence: [],
    rulesVersion: 'test',
    sources: [{ feedId: 'fr-bis', itemId: `i-${id}`, title: 't', published: createdAt }],
    createdAt,
  });
}

/** Runs one job of `queue` through a real worker: completed after `ms`, or failed. */
async function runJob(queue: string, jobId: string, outcome: 'completed' | 'failed', ms = 0): Promise<void> {
  await api.app.ctx.queues[queue as keyof typeof api.app.ctx.queues].add('j', { v: 1 }, { jobId, attempts: 1 });
  const connection = createRedis(process.env.REDIS_URL, 'worker');
  const worker = new Worker(
    queue,
    async () => {
      await new Promise((r) => setTimeout(r, ms));
      if (outcome === 'failed') throw new UnrecoverableError('BAD_PAYLOAD: test');
      return 'ok';
    },
    { connection, prefix: bullPrefix(api.prefix) },
  );
  try {
    await new Promise<void>((resolve) =>
      worker.on(outcome as 'completed', (job: { id?: string } | undefined) => job?.id === jobId && resolve()),
    );
  } finally {
    await worker.close();
    await connection.quit();
  }
}

/** The value of one sample, e.g. `regwatch_queue_jobs{queue="items",state="failed"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

beforeAll(async () => {
  api = await createTestApi({
    rateLimit: false,
    fileFeeds: [
      FeedSourceSchema.parse({ id: 'fr-bis', url: 'https://example.com/a' }),
      FeedSourceSchema.parse({ id: 'broken', url: 'https://example.com/b' }),
    ],
  });
  const ctx = api.app.ctx;
  // Two waiting polls, the older one 2 minutes old.
  await ctx.queues.polls.add('poll', { v: 1, feedId: 'fr-bis' }, { jobId: 'p-old', timestamp: Date.now() - 120_000 });
  await ctx.queues.polls.add('poll', { v: 1, feedId: 'broken' }, { jobId: 'p-new' });
  await runJob(QUEUES.items, 'i-ok', 'completed', 30);
  await runJob(QUEUES.items, 'i-bad', 'failed');
  const now = Date.now();
  await ctx.feedState.update(
    'fr-bis',
    {
      lastAttemptAt: new Date(now).toISOString(),
      lastSuccessAt: new Date(now).toISOString(),
      lastStatus: 304,
      nextPollAt: new Date(now + 300_000).toISOString(),
    },
    { itemsSeen: 7 },
  );
  await ctx.feedState.update('broken', {
    lastAttemptAt: new Date(now).toISOString(),
    lastStatus: 503,
    lastError: 'FEED_SERVER_ERROR: 503',
    consecutiveFailures: 4,
  });
  await ctx.alerts.save(alert('a1', ['export_controls', 'sanctions'], new Date(now - 3_600_000).toISOString()));
  await ctx.alerts.save(alert('a2', ['export_controls'], new Date(now - 60_000).toISOString()));
  // Outside the 24 h window: not counted.
  await ctx.alerts.save(alert('a0', ['export_controls'], new Date(now - 3 * 86_400_000).toISOString()));
  const attempt = { alertId: 'a2', subscriptionId: 'sub', at: new Date(now).toISOString() };
  await ctx.notifier.deliveryLog.record({
    ...attempt,
    deliveryId: 'd-w',
    channel: 'webhook',
    attempt: 1,
    ok: false,
    code: 503,
    latencyMs: 400,
    error: 'WEBHOOK_SERVER_ERROR: 503',
  });
  await ctx.notifier.deliveryLog.record({
    ...attempt,
    deliveryId: 'd-w',
    channel: 'webhook',
    attempt: 2,
    ok: true,
    code: 200,
    latencyMs: 100,
  });
  await ctx.notifier.deliveryLog.record({
    ...attempt,
    deliveryId: 'd-e',
    channel: 'email',
    attempt: 1,
    ok: true,
    code: 250,
    latencyMs: 50,
  });
  await ctx.notifier.deadLetters.add({
    id: 'd-x',
    deliveryId: 'd-x',
    kind: 'alert',
    alertId: 'a1',
    storyId: 's-a1',
    subscriptionId: 'sub',
    channelKey: 'e0',
    channel: 'email',
    reason: 'SMTP_REJECTED',
    message: '550',
    failedAt: new Date(now).toISOString(),
    attempts: 1,
    job: {},
  });
  beat = startHeartbeat(api.redis, api.prefix, 'notifier');
});
afterAll(async () => {
  await beat?.close();
  await api?.close();
});

/** One scrape for every test (called inside a test, which expect.poll needs). */
async function scrape(): Promise<string> {
  if (exposition) return exposition;
  await expect.poll(async () => (await api.redis.keys(`{${api.prefix}}:heartbeat:*`)).length).toBe(1);
  const res = await api.app.inject({ url: '/metrics', headers: await api.headers('ops') });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  exposition = res.body;
  return exposition;
}

describe('/metrics', () => {
  it('needs an ops or admin token, or METRICS_TOKEN when set', async () => {
    expect((await api.app.inject('/metrics')).statusCode).toBe(401);
    expect((await api.app.inject({ url: '/metrics', headers: await api.headers('team:chips') })).statusCode).toBe(403);
    expect((await api.app.inject({ url: '/metrics', headers: await api.headers('admin') })).statusCode).toBe(200);
    const metricsToken = 'scrape-token-0123456789abcdef';
    const app = buildServer({
      connection: api.redis,
      prefix: api.prefix,
      log: silentLogger(),
      metricsToken,
      rateLimit: false,
    });
    try {
      const scrape = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${metricsToken}` } });
      expect(scrape.statusCode).toBe(200);
      expect(scrape.body).toContain('regwatch_queue_jobs');
      expect(
        (await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-token-0123456789abcdeX' } }))
          .statusCode,
      ).toBe(401);
      expect((await app.inject('/metrics')).statusCode).toBe(401);
      expect((await app.inject({ url: '/metrics', headers: await api.headers('ops') })).statusCode).toBe(200);
      expect((await app.inject({ url: '/metrics', headers: await api.headers('team:chips') })).statusCode).toBe(403);
    } finally {
      await app.close();
    }
  });

  it('reports queue depth, oldest waiting age and job durations from BullMQ', async () => {
    const exposition = await scrape();
    expect(sample(exposition, 'regwatch_queue_jobs{queue="polls",state="waiting"}')).toBe(2);
    expect(sample(exposition, 'regwatch_queue_jobs{queue="items",state="completed"}')).toBe(1);
    expect(sample(exposition, 'regwatch_queue_jobs{queue="items",state="failed"}')).toBe(1);
    const age = sample(exposition, 'regwatch_queue_oldest_waiting_age_seconds{queue="polls"}') ?? 0;
    expect(age).toBeGreaterThanOrEqual(120);
    expect(age).toBeLessThan(180);
    expect(sample(exposition, 'regwatch_queue_oldest_waiting_age_seconds{queue="items"}')).toBe(0);
    expect(sample(exposition, 'regwatch_job_duration_recent_samples{queue="items"}')).toBe(1);
    expect(
      sample(exposition, 'regwatch_job_duration_recent_seconds{queue="items",quantile="0.5"}'),
    ).toBeGreaterThanOrEqual(0.025);
    expect(exposition).toContain('# TYPE regwatch_queue_processed_total counter');
  });

  it('reports feed health and poll outcomes from the feed state', async () => {
    const exposition = await scrape();
    expect(sample(exposition, 'regwatch_feeds{status="ok"}')).toBe(1);
    expect(sample(exposition, 'regwatch_feeds{status="failing"}')).toBe(1);
    expect(sample(exposition, 'regwatch_poll_last_outcome_feeds{status="304"}')).toBe(1);
    expect(sample(exposition, 'regwatch_poll_last_outcome_feeds{status="503"}')).toBe(1);
    expect(sample(exposition, 'regwatch_feed_up{feed="broken"}')).toBe(0);
    expect(sample(exposition, 'regwatch_feed_consecutive_failures{feed="broken"}')).toBe(4);
    expect(sample(exposition, 'regwatch_feed_items_seen_total{feed="fr-bis"}')).toBe(7);
    expect(sample(exposition, 'regwatch_feed_next_poll_timestamp_seconds{feed="fr-bis"}')).toBeGreaterThan(
      Date.now() / 1000,
    );
  });

  it('reports alerts by topic and deliveries by channel from the stores', async () => {
    const exposition = await scrape();
    expect(sample(exposition, 'regwatch_alerts_recent{topic="export_controls"}')).toBe(2);
    expect(sample(exposition, 'regwatch_alerts_recent{topic="sanctions"}')).toBe(1);
    expect(sample(exposition, 'regwatch_alerts_recent_all')).toBe(2);
    expect(sample(exposition, 'regwatch_deliveries_recent{channel="webhook",state="delivered"}')).toBe(1);
    expect(sample(exposition, 'regwatch_deliveries_recent{channel="email",state="delivered"}')).toBe(1);
    expect(sample(exposition, 'regwatch_delivery_attempts_recent{channel="webhook",outcome="error"}')).toBe(1);
    expect(sample(exposition, 'regwatch_delivery_attempts_recent{channel="webhook",outcome="ok"}')).toBe(1);
    expect(sample(exposition, 'regwatch_delivery_latency_recent_seconds{channel="webhook",quantile="0.99"}')).toBe(0.4);
    expect(sample(exposition, 'regwatch_delivery_latency_recent_seconds{channel="webhook",quantile="0.5"}')).toBe(0.1);
    expect(sample(exposition, 'regwatch_dead_letters')).toBe(1);
    expect(sample(exposition, 'regwatch_service_instances{service="notifier"}')).toBe(1);
    expect(sample(exposition, 'regwatch_service_instances{service="poller"}')).toBe(0);
  });
});

describe('Grafana dashboard infra/grafana/regwatch.json', () => {
  it('queries only series /metrics exposes', async () => {
    const exposition = await scrape();
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exposed = new Set(
      exposition
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .map((l) => l.split(' ')[2]),
    );
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(10);
    for (const { panel, expr } of exprs) {
      const names = expr.match(/\bregwatch_[a-z0-9_]+/g) ?? [];
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exposed, `${panel}: ${name}`).toContain(name);
    }
  });
});
