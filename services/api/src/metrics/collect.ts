import { SOURCE_INCIDENT_KINDS } from '@regwatch/contracts';
import { readHeartbeats } from '@regwatch/queue';
import type { DeliveryRecord } from '@regwatch/store';
import type { Job, JobType, Queue } from 'bullmq';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ApiContext } from '../context.js';
import { readFeedHealth, readRecentAlerts } from '../ops/data.js';

/** The window of the `*_recent` series: alerts, classifications and deliveries of the last day. */
export const RECENT_WINDOW_SECONDS = 24 * 3600;
/** Deliveries are read for the newest this-many alerts of the window (one round trip per alert). */
const MAX_ALERTS_FOR_DELIVERIES = 1_000;
/** Completed jobs sampled per queue for the duration quantiles. */
const DURATION_SAMPLE = 200;
const QUANTILES = [0.5, 0.9, 0.99] as const;
const JOB_STATES: JobType[] = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'paused',
  'completed',
  'failed',
];

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? 0;
}

async function oldestWaitingTimestamp(queue: Queue): Promise<number | undefined> {
  // The wait list is pushed on the left and taken from the right; LIFO jobs go to the other end,
  // so both ends are read and the older one wins.
  const [head, tail] = await Promise.all([queue.getJobs(['wait'], 0, 0, true), queue.getJobs(['wait'], 0, 0, false)]);
  const stamps = [...head, ...tail].filter((j): j is Job => Boolean(j)).map((j) => j.timestamp);
  return stamps.length > 0 ? Math.min(...stamps) : undefined;
}

/**
 * Builds the Prometheus exposition at scrape time, from Redis only: the api process runs no
 * worker, so every series is derived from what the workers leave there (BullMQ's job lists and
 * counters, the poller's feed state, the alert history, the delivery log, dead letters and
 * heartbeats). A fresh registry per scrape, so a removed feed or queue state disappears at once.
 * Which series comes from where is listed in docs/api.md ("Metrics").
 */
export async function collectMetrics(
  ctx: ApiContext,
  now = Date.now(),
): Promise<{ contentType: string; body: string }> {
  const started = process.hrtime.bigint();
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] });

  // Queues: BullMQ's lists and its optional per-queue counters.
  const queueJobs = gauge('regwatch_queue_jobs', 'Jobs per queue and state (completed/failed: those BullMQ keeps)', [
    'queue',
    'state',
  ]);
  const oldestAge = gauge(
    'regwatch_queue_oldest_waiting_age_seconds',
    'Age of the oldest waiting job per queue; 0 when none waits',
    ['queue'],
  );
  const processed = counter(
    'regwatch_queue_processed_total',
    'Jobs finished per queue and outcome, from BullMQ metrics (0 unless workers run with the BullMQ `metrics` option)',
    ['queue', 'outcome'],
  );
  const duration = gauge(
    'regwatch_job_duration_recent_seconds',
    `Processing time (finishedOn - processedOn) of the last ${DURATION_SAMPLE} completed jobs per queue, by quantile`,
    ['queue', 'quantile'],
  );
  const durationSamples = gauge(
    'regwatch_job_duration_recent_samples',
    'Completed jobs the quantiles were taken over',
    ['queue'],
  );
  await Promise.all(
    Object.entries(ctx.queues).map(async ([name, queue]) => {
      const [counts, oldest, completedMetrics, failedMetrics, completed] = await Promise.all([
        queue.getJobCounts(...JOB_STATES),
        oldestWaitingTimestamp(queue),
        queue.getMetrics('completed', 0, 0),
        queue.getMetrics('failed', 0, 0),
        queue.getJobs(['completed'], 0, DURATION_SAMPLE - 1),
      ]);
      for (const state of JOB_STATES) queueJobs.set({ queue: name, state }, counts[state] ?? 0);
      oldestAge.set({ queue: name }, oldest === undefined ? 0 : Math.max(0, (now - oldest) / 1000));
      processed.inc({ queue: name, outcome: 'completed' }, completedMetrics.meta.count || 0);
      processed.inc({ queue: name, outcome: 'failed' }, failedMetrics.meta.count || 0);
      const seconds = completed
        .filter((j): j is Job => Boolean(j?.finishedOn && j.processedOn))
        .map((j) => ((j.finishedOn ?? 0) - (j.processedOn ?? 0)) / 1000)
        .sort((a, b) => a - b);
      durationSamples.set({ queue: name }, seconds.length);
      for (const q of QUANTILES) duration.set({ queue: name, quantile: String(q) }, quantile(seconds, q));
    }),
  );

  // Feeds: the poller's per-feed state (FeedStateStore) over the live catalog.
  const feeds = await readFeedHealth(ctx.catalog, ctx.file, ctx.feedState, ctx.sourceHealth);
  const feedsByStatus = gauge('regwatch_feeds', 'Feeds by health: ok, failing, never polled, disabled', ['status']);
  for (const status of ['ok', 'failing', 'never', 'disabled'])
    feedsByStatus.set({ status }, feeds.filter((f) => f.status === status).length);
  const pollOutcomes = gauge(
    'regwatch_poll_last_outcome_feeds',
    'Feeds by the outcome of their last poll: its HTTP status, or "error" when none was received',
    ['status'],
  );
  const feedUp = gauge('regwatch_feed_up', '1 when the last poll of the feed succeeded', ['feed']);
  const feedFailures = gauge('regwatch_feed_consecutive_failures', 'Failed polls in a row', ['feed']);
  const lastSuccess = gauge('regwatch_feed_last_success_timestamp_seconds', 'When the feed last polled fine', ['feed']);
  const nextPoll = gauge('regwatch_feed_next_poll_timestamp_seconds', 'When the poller means to poll next', ['feed']);
  const itemsSeen = counter('regwatch_feed_items_seen_total', 'New items the poller queued from the feed', ['feed']);
  const outcomes = new Map<string, number>();
  for (const f of feeds) {
    if (f.state.lastAttemptAt !== undefined) {
      const status =
        f.state.lastStatus !== undefined && !(f.status === 'failing' && f.state.lastStatus < 400)
          ? String(f.state.lastStatus)
          : f.status === 'failing'
            ? 'error'
            : 'ok';
      outcomes.set(status, (outcomes.get(status) ?? 0) + 1);
    }
    feedUp.set({ feed: f.id }, f.status === 'ok' ? 1 : 0);
    feedFailures.set({ feed: f.id }, f.state.consecutiveFailures);
    if (f.state.lastSuccessAt) lastSuccess.set({ feed: f.id }, Date.parse(f.state.lastSuccessAt) / 1000);
    if (f.state.nextPollAt) nextPoll.set({ feed: f.id }, Date.parse(f.state.nextPollAt) / 1000);
    itemsSeen.inc({ feed: f.id }, f.state.itemsSeen || 0);
  }
  for (const [status, n] of outcomes) pollOutcomes.set({ status }, n);
  // Source alarms (silent, empty, failing): the same incidents the ops channel is told about.
  const incidentsOpen = gauge('regwatch_source_incidents_open', 'Open source alarms by kind', ['kind']);
  for (const kind of SOURCE_INCIDENT_KINDS) {
    incidentsOpen.set({ kind }, feeds.filter((f) => f.incidents.some((i) => i.kind === kind)).length);
  }

  // Classification: flagged items are the alert history; classified ones are the items the poller
  // queued (regwatch_feed_items_seen_total): an `items` job carries a poll's new items, not one.
  const alerts = await readRecentAlerts(ctx.alerts, now - RECENT_WINDOW_SECONDS * 1000);
  const flagged = gauge('regwatch_alerts_recent', 'Alerts (flagged items) created in the last 24 h, per topic', [
    'topic',
  ]);
  const flaggedAll = gauge('regwatch_alerts_recent_all', 'Alerts created in the last 24 h, any topic');
  flaggedAll.set(alerts.length);
  const bySeverity = gauge('regwatch_alerts_recent_by_severity', 'Alerts created in the last 24 h, per severity', [
    'severity',
  ]);
  const topicCounts = new Map<string, number>();
  const severityCounts = new Map<string, number>();
  for (const a of alerts) {
    for (const t of a.topics) topicCounts.set(t, (topicCounts.get(t) ?? 0) + 1);
    severityCounts.set(a.severity, (severityCounts.get(a.severity) ?? 0) + 1);
  }
  for (const [topic, n] of topicCounts) flagged.set({ topic }, n);
  for (const [severity, n] of severityCounts) bySeverity.set({ severity }, n);

  // Deliveries: the delivery log of those alerts, and the dead-letter store.
  const ids = (
    await Promise.all(
      alerts.slice(0, MAX_ALERTS_FOR_DELIVERIES).map((a) => ctx.notifier.deliveryLog.deliveriesForAlert(a.id)),
    )
  ).flat();
  const records: DeliveryRecord[] = ids.length > 0 ? await ctx.notifier.deliveryLog.records([...new Set(ids)]) : [];
  const deliveries = gauge(
    'regwatch_deliveries_recent',
    'Deliveries of the last 24 h of alerts, per channel and state (delivered, retrying, dead)',
    ['channel', 'state'],
  );
  const attempts = gauge('regwatch_delivery_attempts_recent', 'Delivery attempts of those deliveries, per outcome', [
    'channel',
    'outcome',
  ]);
  const latency = gauge(
    'regwatch_delivery_latency_recent_seconds',
    'Latency of those delivery attempts (webhook request or SMTP send), per channel, by quantile',
    ['channel', 'quantile'],
  );
  const stateCounts = new Map<string, number>();
  const attemptCounts = new Map<string, number>();
  const latencies = new Map<string, number[]>();
  for (const r of records) {
    const channel = r.status?.channel ?? r.attempts[0]?.channel;
    if (r.status && channel) {
      const key = `${channel}\u0000${r.status.state}`;
      stateCounts.set(key, (stateCounts.get(key) ?? 0) + 1);
    }
    for (const a of r.attempts) {
      const key = `${a.channel}\u0000${a.ok ? 'ok' : 'error'}`;
      attemptCounts.set(key, (attemptCounts.get(key) ?? 0) + 1);
      const list = latencies.get(a.channel) ?? [];
      list.push(a.latencyMs / 1000);
      latencies.set(a.channel, list);
    }
  }
  for (const channel of ['webhook', 'email']) {
    for (const state of ['delivered', 'retrying', 'dead'])
      deliveries.set({ channel, state }, stateCounts.get(`${channel}\u0000${state}`) ?? 0);
    for (const outcome of ['ok', 'error'])
      attempts.set({ channel, outcome }, attemptCounts.get(`${channel}\u0000${outcome}`) ?? 0);
    const sorted = (latencies.get(channel) ?? []).sort((a, b) => a - b);
    for (const q of QUANTILES) latency.set({ channel, quantile: String(q) }, quantile(sorted, q));
  }
  gauge('regwatch_dead_letters', 'Dead-lettered deliveries kept (30 days)').set(await ctx.notifier.deadLetters.count());

  // Services: heartbeats (every 5 s, 20 s expiry).
  const beats = await readHeartbeats(ctx.redis, ctx.prefix);
  const instances = gauge('regwatch_service_instances', 'Live instances per service (heartbeat in Redis)', ['service']);
  const rss = gauge('regwatch_service_rss_bytes', 'Resident memory per service instance, from its heartbeat', [
    'service',
    'instance',
  ]);
  for (const service of new Set([...ctx.requiredServices, ...beats.map((b) => b.service)])) {
    instances.set({ service }, beats.filter((b) => b.service === service).length);
  }
  for (const b of beats) rss.set({ service: b.service, instance: b.instance }, b.rssBytes);

  gauge('regwatch_scrape_duration_seconds', 'How long this scrape took to read Redis').set(
    Number(process.hrtime.bigint() - started) / 1e9,
  );
  return { contentType: registry.contentType, body: await registry.metrics() };
}
