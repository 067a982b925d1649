import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DeliveryJob, type ItemJob, itemsOfJob, type PollJob, QUEUES } from '@regwatch/contracts';
import { channelKey, deliveryIdFor } from '@regwatch/notifier';
import { createQueue, readHeartbeats } from '@regwatch/queue';
import type { Engine } from '@regwatch/rules';
import { AlertStore } from '@regwatch/store';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { clearFinished } from './history.js';
import type { BenchFeedServer, SinkDelivery, WebhookSink } from './local-servers.js';
import { infoNumber, prefixBytes, readWorkerMemory, type WorkerMemory } from './memory.js';
import { anyExit, type Child, cpuPerUnit, cpuSnapshot, REPO_ROOT, spawnNode, stopChildren } from './procs.js';
import { countCommands } from './profile.js';
import { type Latency, paced, percentile, round, sleep, steadyRate, summarizeLatency, waitFor } from './stats.js';
import { alertFor, type createStorySource } from './stories.js';

export const SERVICES = ['poller', 'classifier', 'notifier'] as const;
type Service = (typeof SERVICES)[number];
type StorySource = ReturnType<typeof createStorySource>;

export interface PipelineOptions {
  redis: Redis;
  redisUrl: string;
  prefix: string;
  workDir: string;
  feedServer: BenchFeedServer;
  sink: WebhookSink;
  stories: StorySource;
  scale: number;
  feeds: number;
  subscriptions: number;
  /** Items pushed through at saturation. */
  saturationItems: number;
  /** Items run through first at saturation and not measured (0: none). */
  warmupItems?: number;
  /** Latency at a paced load (items per second for so many seconds). */
  paced?: { rate: number; seconds: number };
  /** Diagnostics (slow the pipeline down): V8 CPU profiles of the workers into this folder, and MONITOR. */
  profileDir?: string;
  progress: (line: string) => void;
}

/** Milliseconds spent in each step of an item's way, p50 and p99 over a sample; the steps add up to the total. */
export type StageBreakdown = Record<string, { p50: number; p99: number }>;

/** Jobs left in each queue after a phase, and the first failure reason where some failed. */
export type QueueState = Record<string, { waiting: number; delayed: number; failed: number; firstFailure?: string }>;

export interface SaturationResult {
  items: number;
  itemsPerSec: number;
  complete: boolean;
  seconds: number;
  /** CPU time per item in each process (the bench process serves the feeds and verifies the webhooks). */
  cpuMsPerItem: Record<string, number>;
  /** Commands Redis executed per item, calls inside Lua scripts included (INFO commandstats counts every client: other users add to it). */
  redisCallsPerItem: number;
  topRedisCalls: Record<string, number>;
  stages: StageBreakdown;
  queues: QueueState;
  /** TCP connections the sink accepted per webhook: near 0 when the notifier keeps connections alive. */
  webhookConnectionsPerItem: number;
  /** With `profileDir`: commands naming the bench's keys, per item, sent by clients (EVALSHA by BullMQ script) and run inside scripts. */
  ownRedisCallsPerItem?: { sent: Record<string, number>; inScripts: number };
}

export interface PacedResult {
  rate: number;
  items: number;
  complete: boolean;
  /** From the alert's `fetchedAt` (set by the poller as it starts the fetch) to the webhook verified at the sink. */
  latency: Latency;
  stages: StageBreakdown;
  /** How far the pacer fell behind its schedule at worst. */
  pacerLateMs: number;
  queues: QueueState;
}

export interface PipelineResult {
  scale: number;
  feeds: number;
  subscriptions: number;
  saturation: SaturationResult;
  paced?: PacedResult;
  memory: WorkerMemory[];
  /** What the run left in Redis under its prefix (jobs kept for the ops view, seen items, alerts, delivery log). */
  redis: { keys: number; bytes: number };
  rejectedWebhooks: number;
  duplicateWebhooks: number;
  /** Process ids of the workers, to match CPU profiles to services. */
  pids: Record<string, number>;
}

interface BenchSubscription {
  id: string;
  feeds: string[];
  channel: { type: 'webhook'; url: string; secret: string };
}

/** A stall: nothing arrived at the sink for this long while items were still due. */
const STALL_MS = 20_000;

/**
 * The whole pipeline with its three workers as separate processes (`node services/<name>/dist/main.js`),
 * local feeds and a local webhook sink. Every feed belongs to exactly one subscription (a `feeds`
 * filter), so each item is delivered once whatever the scale; subscriptions' webhooks are spread
 * over the sink's endpoints.
 *
 * Load is injected by adding poll jobs to the `polls` queue (the poller processes any poll job),
 * each answered by the feed server with new items; the feeds' own schedules are daily.
 */
export async function runPipeline(opts: PipelineOptions): Promise<PipelineResult> {
  const { redis, prefix, feedServer, sink } = opts;
  // Feed ids of their own per run: the feed server remembers each feed's recent items.
  const feedIds = Array.from({ length: opts.feeds }, (_, i) => `f${opts.scale}-${i}`);
  const subs: BenchSubscription[] = Array.from({ length: opts.subscriptions }, (_, j) => ({
    id: `bs-${j}`,
    feeds: feedIds.filter((_, i) => i % opts.subscriptions === j),
    channel: { type: 'webhook' as const, url: sink.urls[j % sink.urls.length]!, secret: sink.secret },
  }));
  const feeds = feedIds.map((id, i) => ({ id, url: feedServer.feedUrl(id, i) }));
  const services = await startServices(opts, SERVICES, configYaml(feeds, subs));
  const { race } = services;
  const queues = openQueues(redis, prefix);
  const store = new AlertStore(redis, { prefix });
  let nextFeed = 0;
  const pollJob = () => {
    const feedId = feedIds[nextFeed++ % feedIds.length]!;
    return {
      name: 'poll',
      data: { v: 1, feedId } satisfies PollJob,
      opts: { attempts: 1, removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } },
    };
  };

  try {
    // Keeps the polls queue full until every loaded story has been served. (Not "until `served` has
    // grown by the count": polls left over from the phase before can serve some of the new stories
    // before such a target is taken, and then the loop ran to its 120 s cap with nothing left to serve.)
    const saturate = (started: number) => {
      return (async () => {
        while (feedServer.pending > 0 && Date.now() - started < 120_000) {
          if ((await queues.polls.getWaitingCount()) < 32)
            await queues.polls.addBulk(Array.from({ length: 32 }, pollJob));
          await sleep(20);
        }
      })();
    };
    // Warm-up, not measured: the workers' code compiled by V8 and their connections (256 webhook
    // endpoints, 16 feed hosts) open, as a running service's are. The reference gets one of its own
    // length (SIZES in main.ts), then the same clearing.
    if (opts.warmupItems) {
      opts.progress(`pipeline ${opts.scale}×: ${opts.warmupItems} items to warm up`);
      sink.reset();
      feedServer.load(opts.stories.take(opts.warmupItems));
      const warming = saturate(Date.now());
      await race(arrivals(sink, opts.warmupItems));
      await warming;
      // As for the reference: measured with the job history of a fresh deployment. What regwatch
      // itself keeps (alerts, seen items, the delivery log) stays: that is the pipeline's own state.
      await clearFinished(Object.values(queues));
    }
    // Saturation: keep the polls queue full until every story has been served.
    const n = opts.saturationItems;
    opts.progress(`pipeline ${opts.scale}×: ${n} items at saturation`);
    sink.reset();
    feedServer.load(opts.stories.take(n));
    const pids = { ...services.pids, redis: await infoNumber(redis, 'server', 'process_id') };
    const cpu0 = cpuSnapshot(pids);
    const calls0 = await commandCalls(redis);
    const monitor = opts.profileDir ? await countCommands(redis, prefix) : undefined;
    const connections0 = sink.connections;
    const t0 = Date.now();
    const feeding = saturate(t0);
    const complete = await race(arrivals(sink, n));
    await feeding;
    const seconds = (Date.now() - t0) / 1000;
    const cpu1 = cpuSnapshot(pids);
    const calls1 = await commandCalls(redis);
    const own = await monitor?.stop();
    const done = sink.received.length;
    const saturationSample = sample(sink.received, 300);
    const saturation: SaturationResult = {
      items: done,
      itemsPerSec: steadyRate(sink.received.map((r) => r.at)),
      complete,
      seconds: round(seconds),
      cpuMsPerItem: cpuPerUnit(cpu0, cpu1, done),
      ...callsPerItem(calls0, calls1, done),
      stages: {},
      queues: await queueState(queues),
      webhookConnectionsPerItem: round((sink.connections - connections0) / Math.max(1, done), 3),
      ...(own
        ? {
            ownRedisCallsPerItem: {
              sent: Object.fromEntries(Object.entries(own.sent).map(([k, v]) => [k, round(v / Math.max(1, done), 2)])),
              inScripts: round(own.inScripts / Math.max(1, done), 1),
            },
          }
        : {}),
    };
    if (!complete)
      opts.progress(`pipeline ${opts.scale}×: stalled at ${done}/${n}: ${JSON.stringify(saturation.queues)}`);

    let pacedResult: PacedResult | undefined;
    let pacedSample: SinkDelivery[] = [];
    if (opts.paced && complete) {
      const { rate, seconds: pacedSeconds } = opts.paced;
      // Saturation leaves polls behind (the feeder keeps 32 waiting, and polls deferred for a busy
      // host come back up to 2 s later): let them run out first, so the paced load is measured on
      // an idle pipeline, as the reference's is on an empty chain.
      // (The delayed set also holds each feed's next scheduled poll, a day away: only deferrals count.)
      await race(
        waitFor(async () => {
          const c = await queues.polls.getJobCounts('waiting', 'active', 'prioritized');
          if ((c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) > 0) return false;
          const delayed = await queues.polls.getDelayed(0, -1);
          return !delayed.some((j) => j?.id?.startsWith('defer-'));
        }, 30_000),
      );
      opts.progress(`pipeline ${opts.scale}×: latency at ${rate} items/s for ${pacedSeconds} s`);
      sink.reset();
      const count = Math.round(rate * pacedSeconds);
      feedServer.load(opts.stories.take(count));
      const pacer = await race(
        paced(rate / feedServer.perPoll, pacedSeconds, () => {
          const job = pollJob();
          return queues.polls.add(job.name, job.data, job.opts);
        }),
      );
      const pacedComplete = await race(arrivals(sink, count));
      pacedSample = sample(sink.received, 400);
      pacedResult = {
        rate,
        items: sink.received.length,
        complete: pacedComplete,
        latency: summarizeLatency(await fetchLatencies(sink.received, store)),
        stages: {},
        pacerLateMs: pacer.lateMs,
        queues: await queueState(queues),
      };
    }

    // The load is over: wait for the workers' next heartbeats while reading the jobs back.
    const memory = readWorkerMemory(redis, prefix, SERVICES, Date.now());
    saturation.stages = await stageBreakdown(saturationSample, queues, store, subs);
    if (pacedResult) pacedResult.stages = await stageBreakdown(pacedSample, queues, store, subs);
    const redisUse = await prefixBytes(redis, prefix);
    return {
      scale: opts.scale,
      feeds: opts.feeds,
      subscriptions: opts.subscriptions,
      saturation,
      ...(pacedResult ? { paced: pacedResult } : {}),
      memory: await memory,
      redis: redisUse,
      rejectedWebhooks: sink.rejected,
      duplicateWebhooks: sink.duplicates,
      pids: services.pids,
    };
  } finally {
    await Promise.all(Object.values(queues).map((q) => q.close()));
    await services.stop();
  }
}

export interface DeliveriesOptions {
  redis: Redis;
  redisUrl: string;
  prefix: string;
  workDir: string;
  sink: WebhookSink;
  engine: Engine;
  stories: StorySource;
  count: number;
  /** Deliveries sent first and not measured: the notifier's code compiled by V8 and its connections open. */
  warmup?: number;
  progress: (line: string) => void;
}

export interface DeliveriesResult {
  count: number;
  perSec: number;
  complete: boolean;
  endpoints: number;
  cpuMsPerDelivery: Record<string, number>;
  /** TCP connections the sink accepted per delivery. */
  connectionsPerDelivery: number;
}

/**
 * Webhook deliveries/s to the local sink: a notifier process with one subscription per sink
 * endpoint, one stored alert, and `count` delivery jobs for it (distinct delivery ids, round-robin
 * over the subscriptions) queued at once; measured at the sink, after `warmup` deliveries that are
 * not. One subscription per endpoint keeps a per-endpoint limit in the notifier from deciding the figure.
 */
export async function runDeliveries(opts: DeliveriesOptions): Promise<DeliveriesResult> {
  const { redis, prefix, sink } = opts;
  const subs: BenchSubscription[] = sink.urls.map((url, j) => ({
    id: `bd-${j}`,
    feeds: [`bench-deliveries-${j}`],
    channel: { type: 'webhook' as const, url, secret: sink.secret },
  }));
  const services = await startServices(opts, ['notifier'], configYaml([], subs));
  const deliveries = createQueue(QUEUES.deliveries, { connection: redis, prefix });
  try {
    const alert = alertFor(opts.stories.take(1)[0]!, 0, 'bench-deliveries-0', opts.engine, new Date());
    await new AlertStore(redis, { prefix }).save(alert);
    const keys = subs.map((s) => channelKey(s.channel));
    // `count` delivery jobs numbered from `from`, queued in bulks of 500, round-robin over the subscriptions.
    const queue = async (from: number, count: number) => {
      for (let i = 0; i < count; i += 500) {
        await deliveries.addBulk(
          Array.from({ length: Math.min(500, count - i) }, (_, k) => {
            const n = from + i + k;
            const j = n % subs.length;
            const data: DeliveryJob = {
              v: 1,
              deliveryId: `d-bench-${n}`,
              alertId: alert.id,
              storyId: alert.storyId,
              subscriptionId: subs[j]!.id,
              channelKey: keys[j]!,
            };
            return { name: 'deliver', data, opts: { jobId: data.deliveryId, attempts: 1 } };
          }),
        );
      }
    };
    const warmup = opts.warmup ?? 0;
    if (warmup > 0) {
      opts.progress(`deliveries: ${warmup} webhooks to warm up`);
      sink.reset();
      await queue(0, warmup);
      if (!(await services.race(arrivals(sink, warmup)))) throw new Error('deliveries: the warm-up stalled');
    }
    opts.progress(`deliveries: ${opts.count} webhooks over ${subs.length} endpoints`);
    sink.reset();
    const pids = { ...services.pids, redis: await infoNumber(redis, 'server', 'process_id') };
    const cpu0 = cpuSnapshot(pids);
    const connections0 = sink.connections;
    await queue(warmup, opts.count);
    const complete = await services.race(arrivals(sink, opts.count));
    const cpu1 = cpuSnapshot(pids);
    const done = sink.received.length;
    return {
      count: done,
      perSec: steadyRate(sink.received.map((r) => r.at)),
      complete,
      endpoints: subs.length,
      cpuMsPerDelivery: cpuPerUnit(cpu0, cpu1, done),
      connectionsPerDelivery: round((sink.connections - connections0) / Math.max(1, done), 3),
    };
  } finally {
    await deliveries.close();
    await services.stop();
  }
}

interface Services {
  pids: Record<string, number>;
  /** Races a measurement against any service exiting. */
  race<T>(p: Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Writes the config, spawns the services as processes, and waits until each has written its
 * first heartbeat and the polls its poller makes at start-up are done.
 */
async function startServices(
  opts: {
    redis: Redis;
    redisUrl: string;
    prefix: string;
    workDir: string;
    sink: WebhookSink;
    profileDir?: string;
    progress: (line: string) => void;
  },
  services: readonly Service[],
  yaml: string,
): Promise<Services> {
  const { redis, prefix } = opts;
  const configPath = join(opts.workDir, `regwatch-${prefix}.yaml`);
  writeFileSync(configPath, yaml);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: opts.redisUrl,
    REGWATCH_PREFIX: prefix,
    REGWATCH_CONFIG: configPath,
    REGWATCH_ALLOW_NETS: '127.0.0.0/8',
    REGWATCH_DATA_DIR: opts.workDir,
    BENCH_WEBHOOK_SECRET: opts.sink.secret,
    // The sink's endpoints stand for receivers that take whatever they are sent. At the default 20
    // requests per second per endpoint, the 64 endpoints of the 1× run would cap the pipeline at
    // 1,280 items/s (measured: 1,226 and 1,279 against 1,437 and 1,378 with the limit raised), so
    // the bench would measure the politeness limit instead of the pipeline. In-flight stays at 4.
    REGWATCH_WEBHOOK_ENDPOINT_RATE: '1000',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
  const children: Child[] = services.map((s) =>
    spawnNode(`${prefix}-${s}`, join(REPO_ROOT, 'services', s, 'dist', 'main.js'), {
      env,
      logDir: opts.workDir,
      ...(opts.profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] } : {}),
    }),
  );
  const exits = anyExit(children);
  const race = <T>(p: Promise<T>) => Promise.race([p, exits.promise]);
  const stop = async () => {
    exits.cancel();
    const codes = await stopChildren(children);
    const bad = Object.entries(codes).filter(([, c]) => c !== 0);
    if (bad.length > 0) opts.progress(`${bad.map(([k, c]) => `${k} exited ${c}`).join(', ')}`);
  };
  const polls = createQueue(QUEUES.polls, { connection: redis, prefix });
  try {
    const ready = await race(
      waitFor(async () => {
        const beats = await Promise.all(services.map((s) => readHeartbeats(redis, prefix, s)));
        if (!beats.every((b) => b.length > 0)) return false;
        const counts = await polls.getJobCounts('waiting', 'active');
        return (counts.waiting ?? 0) + (counts.active ?? 0) === 0;
      }, 60_000),
    );
    if (!ready) throw new Error(`${services.join(', ')} did not become ready within 60 s`);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await polls.close();
  }
  return {
    pids: Object.fromEntries(children.map((c, i) => [services[i]!, c.process.pid ?? -1])),
    race,
    stop,
  };
}

function openQueues(redis: Redis, prefix: string) {
  return {
    polls: createQueue(QUEUES.polls, { connection: redis, prefix }),
    items: createQueue(QUEUES.items, { connection: redis, prefix }),
    alerts: createQueue(QUEUES.alerts, { connection: redis, prefix }),
    deliveries: createQueue(QUEUES.deliveries, { connection: redis, prefix }),
  };
}

/** Waits until `count` webhooks have arrived; false when nothing new arrived for STALL_MS. */
async function arrivals(sink: WebhookSink, count: number): Promise<boolean> {
  let last = sink.received.length;
  let lastAt = Date.now();
  return waitFor(() => {
    const now = sink.received.length;
    if (now >= count) return true;
    if (now !== last) {
      last = now;
      lastAt = Date.now();
    }
    if (Date.now() - lastAt > STALL_MS) throw new Stalled();
    return false;
  }, 180_000).catch((err: unknown) => {
    if (err instanceof Stalled) return false;
    throw err;
  });
}

class Stalled extends Error {}

/**
 * The generated REGWATCH_CONFIG: YAML, one flow mapping per feed; the webhook secret comes from the
 * environment (`${BENCH_WEBHOOK_SECRET}`), as a deployment keeps secrets out of the file.
 */
function configYaml(feeds: ReadonlyArray<{ id: string; url: string }>, subs: readonly BenchSubscription[]): string {
  const lines = ['# Generated by `pnpm bench` (test/src/bench/pipeline.ts); deleted after the run.', 'feeds:'];
  // Polled when the bench adds poll jobs, not on the (daily) schedule.
  for (const f of feeds) lines.push(`  - { id: ${f.id}, url: "${f.url}", intervalSeconds: 86400 }`);
  if (feeds.length === 0) lines[lines.length - 1] = 'feeds: []';
  lines.push('subscriptions:');
  for (const s of subs) {
    lines.push(
      `  - id: ${s.id}`,
      '    team: bench',
      `    filter: { feeds: [${s.feeds.join(', ')}] }`,
      '    channels:',
      `      - { type: webhook, url: "${s.channel.url}", secret: "\${BENCH_WEBHOOK_SECRET}" }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Calls per command since the server started, from INFO commandstats. */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const text = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
  return calls;
}

function callsPerItem(
  before: Map<string, number>,
  after: Map<string, number>,
  items: number,
): { redisCallsPerItem: number; topRedisCalls: Record<string, number> } {
  const delta = [...after].map(([cmd, n]) => [cmd, n - (before.get(cmd) ?? 0)] as const).filter(([, n]) => n > 0);
  delta.sort((a, b) => b[1] - a[1]);
  const per = (n: number) => round(n / Math.max(1, items), 2);
  return {
    redisCallsPerItem: per(delta.reduce((s, [, n]) => s + n, 0)),
    topRedisCalls: Object.fromEntries(delta.slice(0, 8).map(([cmd, n]) => [cmd, per(n)])),
  };
}

async function queueState(queues: Record<string, Queue>): Promise<QueueState> {
  const entries = await Promise.all(
    Object.entries(queues).map(async ([name, q]) => {
      const c = await q.getJobCounts('waiting', 'delayed', 'failed');
      const failed = c.failed ?? 0;
      const first = failed > 0 ? (await q.getFailed(0, 0))[0]?.failedReason : undefined;
      return [
        name,
        { waiting: c.waiting ?? 0, delayed: c.delayed ?? 0, failed, ...(first ? { firstFailure: first } : {}) },
      ] as const;
    }),
  );
  return Object.fromEntries(entries);
}

function sample<T>(xs: readonly T[], max: number): T[] {
  if (xs.length <= max) return [...xs];
  const step = xs.length / max;
  return Array.from({ length: max }, (_, i) => xs[Math.floor(i * step)]!);
}

/** Each delivery's latency: arrival at the sink minus its alert's `fetchedAt`, read back from the AlertStore. */
async function fetchLatencies(received: readonly SinkDelivery[], store: AlertStore): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < received.length; i += 200) {
    const batch = received.slice(i, i + 200);
    const alerts = await Promise.all(batch.map((r) => store.get(r.alertId)));
    alerts.forEach((a, k) => {
      if (a?.fetchedAt) out.push(batch[k]!.at - Date.parse(a.fetchedAt));
    });
  }
  return out;
}

/**
 * Where an item's time goes, from the timestamps BullMQ keeps on each job (added, last taken by a
 * worker): fetch started → item queued → classifier takes it → delivery queued (the classifier
 * routes the alert in the same job) → delivery taken → webhook verified. The steps add up to the total.
 */
async function stageBreakdown(
  received: readonly SinkDelivery[],
  queues: Record<'items' | 'deliveries', Queue>,
  store: AlertStore,
  subs: readonly BenchSubscription[],
): Promise<StageBreakdown> {
  const names = ['poll', 'itemsWait', 'classifyRoute', 'deliveriesWait', 'send'];
  const steps: Record<string, number[]> = Object.fromEntries([...names, 'total'].map((n) => [n, []]));
  // An `items` job carries a poll's new items, and a `deliver-batch` job several deliveries to one
  // channel: find each item's and each delivery's job by what it carries.
  const states = ['completed', 'active', 'waiting', 'delayed'] as const;
  const itemJob = new Map<string, Job>();
  for (const job of await queues.items.getJobs([...states], 0, -1)) {
    if (!job) continue;
    for (const item of itemsOfJob(job.data as ItemJob)) itemJob.set(item.id, job);
  }
  const deliveryJob = new Map<string, Job>();
  for (const job of await queues.deliveries.getJobs([...states], 0, -1)) {
    if (!job) continue;
    const data = job.data as { deliveryId?: string; deliveries?: Array<{ deliveryId: string }> };
    for (const d of data.deliveries ?? [data as { deliveryId: string }]) {
      // A delivery that left its batch is a job of its own: the batch's timestamps are the first attempt's.
      if (typeof d.deliveryId === 'string' && !deliveryJob.has(d.deliveryId)) deliveryJob.set(d.deliveryId, job);
    }
  }
  await Promise.all(
    received.map(async (r) => {
      const alert = await store.get(r.alertId);
      const sub = alert && subs.find((s) => s.feeds.includes(alert.feedId));
      if (!alert?.fetchedAt || !sub) return;
      const item = itemJob.get(alert.itemId);
      const delivery = deliveryJob.get(deliveryIdFor(alert.storyId, sub.id, channelKey(sub.channel)));
      if (!item?.processedOn || !delivery?.processedOn) return;
      const fetched = Date.parse(alert.fetchedAt);
      const marks = [fetched, item.timestamp, item.processedOn, delivery.timestamp, delivery.processedOn, r.at];
      names.forEach((name, i) => {
        steps[name]!.push(marks[i + 1]! - marks[i]!);
      });
      steps['total']!.push(r.at - fetched);
    }),
  );
  return Object.fromEntries(
    Object.entries(steps).map(([name, xs]) => {
      const sorted = xs.sort((a, b) => a - b);
      return [name, { p50: round(percentile(sorted, 0.5)), p99: round(percentile(sorted, 0.99)) }];
    }),
  );
}
