import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Alert, QUEUES } from '@regwatch/contracts';
import { feed } from '@regwatch/poller';
import { bullPrefix, createQueue, createRedis } from '@regwatch/queue';
import { createRulesHolder } from '@regwatch/rules';
import { DeliveryLog } from '@regwatch/store';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { stringify } from 'yaml';
import {
  type FeedServer,
  type SmtpSink,
  startFeedServer,
  startSmtpSink,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../helpers/index.js';
import { seededRng } from '../helpers/random.js';
import { type Forwarder, freePort, isAlive, type Proc, type ServiceName, spawnLogged, stop } from './procs.js';
import type { AttemptTimes } from './schedule-check.js';

export const FEED_COUNT = 40;
export const PREFIX = 'chaos';
/**
 * The notifier's retry schedule in the suite (`REGWATCH_RETRY_SCHEDULE`): the production one
 * (5 s, 5 min, 30 min, …) compressed so a two-minute outage plays out in minutes.
 */
export const RETRY_SCHEDULE = '5s,15s,30s,45s,60s,60s,60s,60s';
export const RETRY_STEPS_MS = [5_000, 15_000, 30_000, 45_000, 60_000, 60_000, 60_000, 60_000];
const WORKERS = ['poller', 'classifier', 'notifier'] as const;
export type WorkerName = (typeof WORKERS)[number];

export interface ChaosItem {
  feedId: string;
  guid: string;
  link: string;
  /** The canonical URL the poller derives from `link`: how payload sources are matched back. */
  url: string;
  title: string;
  summary: string;
  /** What the bundled rules say, computed here with the same engine the classifier runs. */
  isFlagged: boolean;
}

export interface Measure {
  items: number;
  flagged: number;
  expected: number;
  delivered: number;
  lost: number;
  /** Requests beyond the first for one webhook-id: retries, allowed. */
  retries: number;
  /** Stories announced (`alert.created`) under more than one webhook-id to one subscription: never allowed. */
  duplicateStories: number;
}

/** The redis-server child on its own port and data dir (AOF everysec, like infra/redis/redis.conf). */
export class RedisServer {
  proc: Proc | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'regwatch-chaos-redis-'));
  constructor(
    readonly port: number,
    private readonly logDir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawnLogged(
      'redis',
      'redis-server',
      // No shell: the empty --save argument reaches redis-server as one (RDB snapshots off, AOF only).
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--dir',
        this.dir,
        '--save',
        '',
      ],
      process.env,
      this.logDir,
    );
    await waitForPing(this.port, 15_000);
    // Another run's Redis on the port answers the ping too: both runs would then share queues
    // (it happened: two suites at once, each worker consuming the other's jobs). Refuse.
    const pid = await serverPid(this.port);
    if (pid !== this.proc.child.pid) {
      await this.kill();
      throw new Error(
        `port ${this.port} is taken by another redis-server (pid ${pid}); is another chaos or soak run going? ` +
          'Pick a free port with CHAOS_REDIS_PORT / SOAK_REDIS_PORT',
      );
    }
  }

  async kill(): Promise<void> {
    if (this.proc) await stop(this.proc, 'SIGKILL', 10_000);
  }

  signal(sig: NodeJS.Signals): void {
    this.proc?.child.kill(sig);
  }
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const { Redis: IORedis } = await import('ioredis');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const probe = new IORedis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') {
        probe.disconnect();
        return;
      }
    } catch {
      // not up yet
    }
    probe.disconnect();
    await sleep(100);
  }
  throw new Error(`redis on port ${port} did not answer within ${timeoutMs} ms`);
}

/** `process_id` from INFO server of the Redis answering on `port`. */
async function serverPid(port: number): Promise<number | undefined> {
  const { Redis: IORedis } = await import('ioredis');
  const probe = new IORedis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    const m = /^process_id:(\d+)/m.exec(await probe.info('server'));
    return m ? Number(m[1]) : undefined;
  } finally {
    probe.disconnect();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything one chaos run shares: servers, receivers, the worker processes and the measuring. */
export class World {
  readonly logDir = mkdtempSync(join(tmpdir(), 'regwatch-chaos-'));
  readonly redisServer: RedisServer;
  redis!: Redis;
  polls!: Queue;
  queues!: Queue[];
  feeds!: FeedServer;
  smtp!: SmtpSink;
  hooks: WebhookReceiver[] = [];
  forwarders: Forwarder[] = [];
  procs = new Map<ServiceName, Proc>();
  apiPort = 0;
  private configPath = '';
  private readonly engine = createRulesHolder().engine;
  private readonly docs = new Map<string, ChaosItem[]>();
  private pollSeq = 0;
  private readonly tags = new Map<string, number>();
  readonly random = seededRng(0xc4a05);

  constructor(
    redisPort: number,
    private readonly repoRoot: string,
  ) {
    this.redisServer = new RedisServer(redisPort, this.logDir);
  }

  static feedId(i: number): string {
    return `chaos-${String(i).padStart(2, '0')}`;
  }

  async start(forward: (port: number) => Promise<Forwarder>): Promise<void> {
    await this.redisServer.start();
    this.redis = createRedis(this.redisServer.url, 'worker');
    this.redis.on('error', () => {});
    this.polls = createQueue(QUEUES.polls, { connection: this.redis, prefix: PREFIX });
    this.queues = Object.values(QUEUES).map((q) => createQueue(q, { connection: this.redis, prefix: PREFIX }));
    this.feeds = await startFeedServer();
    this.smtp = await startSmtpSink();
    const secrets = [0, 1].map(() => `whsec_${randomBytes(24).toString('base64')}`);
    for (const secret of secrets) {
      const hook = await startWebhookReceiver(secret);
      this.hooks.push(hook);
      this.forwarders.push(await forward(Number(new URL(hook.url).port)));
    }
    const chaosFeeds = Array.from({ length: FEED_COUNT }, (_, i) => World.feedId(i));
    for (const id of [...chaosFeeds, 'chaos-mail']) this.publish(id, []);
    const config = {
      feeds: [...chaosFeeds, 'chaos-mail'].map((id) => ({
        id,
        url: `${this.feeds.url}/f/${id}.xml`,
        intervalSeconds: 30,
      })),
      subscriptions: [
        ...this.forwarders.map((f, n) => ({
          id: `hooks-${n}`,
          team: 'chaos',
          filter: { feeds: chaosFeeds },
          channels: [{ type: 'webhook', url: `http://127.0.0.1:${f.port}/hook`, secret: secrets[n] }],
        })),
        {
          id: 'mail',
          team: 'chaos',
          filter: { feeds: ['chaos-mail'] },
          channels: [{ type: 'email', to: ['compliance@example.com'] }],
        },
      ],
    };
    this.configPath = join(this.logDir, 'regwatch.yaml');
    writeFileSync(this.configPath, stringify(config));
    this.apiPort = await freePort();
    for (const name of [...WORKERS, 'api'] as const) this.spawn(name);
  }

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      REDIS_URL: this.redisServer.url,
      REGWATCH_PREFIX: PREFIX,
      REGWATCH_CONFIG: this.configPath,
      REGWATCH_ALLOW_NETS: '127.0.0.0/8',
      REGWATCH_DATA_DIR: join(this.logDir, 'data'),
      REGWATCH_UNSUBSCRIBE_SECRET: 'chaos-unsubscribe-secret',
      REGWATCH_RETRY_SCHEDULE: RETRY_SCHEDULE,
      SMTP_URL: this.smtp.url,
      SMTP_FROM: 'regwatch <alerts@regwatch.test>',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      API_HOST: '127.0.0.1',
      API_PORT: String(this.apiPort),
    };
  }

  spawn(name: ServiceName): Proc {
    const proc = spawnLogged(
      name,
      process.execPath,
      [join(this.repoRoot, 'services', name, 'dist', 'main.js')],
      this.env(),
      this.logDir,
    );
    this.procs.set(name, proc);
    return proc;
  }

  workers(): WorkerName[] {
    return [...WORKERS];
  }

  /** Workers (and the api) that died when nobody killed them. */
  dead(): string[] {
    return [...this.procs.values()].filter((p) => !isAlive(p)).map((p) => p.name);
  }

  /** Replaces what a feed serves with these items (newest first, as feeds list them). */
  publish(feedId: string, items: ChaosItem[]): void {
    this.docs.set(feedId, items);
    this.feeds.set(`/f/${feedId}.xml`, renderRss(feedId, items));
  }

  /** Appends new items to feeds, then asks the poller to poll them now (intervals are ≥ 30 s). */
  async release(items: ChaosItem[]): Promise<void> {
    const byFeed = new Map<string, ChaosItem[]>();
    for (const item of items) byFeed.set(item.feedId, [...(byFeed.get(item.feedId) ?? []), item]);
    for (const [feedId, added] of byFeed)
      this.publish(feedId, [...added, ...(this.docs.get(feedId) ?? [])].slice(0, 900));
    await this.pollNow([...byFeed.keys()]);
  }

  async pollNow(feedIds: string[]): Promise<void> {
    const seq = ++this.pollSeq;
    await this.polls.addBulk(
      feedIds.map((feedId) => ({
        name: 'poll',
        data: { v: 1, feedId },
        opts: { jobId: `chaos-poll-${feedId}-${seq}` },
      })),
    );
  }

  /** `count` new items over the chaos feeds for scenario `tag`, about half of them export-control stories. */
  makeItems(base: string, count: number, feedIds?: string[]): ChaosItem[] {
    // A scenario run twice gets new items: the poller would skip guids it has seen.
    const run = (this.tags.get(base) ?? 0) + 1;
    this.tags.set(base, run);
    const tag = run === 1 ? base : `${base}-r${run}`;
    const ids = feedIds ?? Array.from({ length: FEED_COUNT }, (_, i) => World.feedId(i));
    return Array.from({ length: count }, (_, n) => {
      const feedId = ids[n % ids.length]!;
      const { title, summary } = story(this.random);
      const link = `${this.feeds.url}/s/${tag}/${n}?utm_source=rss`;
      const url = feed.canonicalUrl(link) ?? link;
      const isFlagged = this.engine.classify({ title, summary }).flagged;
      return { feedId, guid: `${tag}-${n}`, link, url, title, summary, isFlagged };
    });
  }

  /** What reached each webhook subscription, against what the classifier's rules flag. */
  async measure(items: ChaosItem[]): Promise<Measure> {
    const flagged = items.filter((i) => i.isFlagged);
    const mine = new Set(items.map((i) => i.url));
    let storyOf: Map<string, string> | undefined;
    let delivered = 0;
    let retries = 0;
    let duplicateStories = 0;
    for (const hook of this.hooks) {
      const urls = new Set<string>();
      const stories = new Set<string>();
      const created = new Map<string, Set<string>>();
      const ids = new Set<string>();
      let requests = 0;
      for (const r of hook.received) {
        const data = r.payload.data as { storyId?: string; url?: string; sources?: Array<{ url?: string }> };
        // Receivers outlive scenarios: count retries only for this scenario's stories.
        if (data.sources?.some((s) => s.url !== undefined && mine.has(s.url))) {
          ids.add(r.id);
          requests++;
        }
        if (data.storyId) stories.add(data.storyId);
        if (data.url) urls.add(data.url);
        for (const s of data.sources ?? []) if (s.url) urls.add(s.url);
        if (r.payload.type === 'alert.created' && data.storyId) {
          created.set(data.storyId, (created.get(data.storyId) ?? new Set()).add(r.id));
        }
      }
      retries += requests - ids.size;
      for (const set of created.values()) if (set.size > 1) duplicateStories++;
      for (const item of flagged) {
        if (urls.has(item.url)) {
          delivered++;
          continue;
        }
        // A near-duplicate of an earlier story joins it: delivered when that story was.
        storyOf ??= await this.storiesByUrl();
        const storyId = storyOf.get(item.url);
        if (storyId && stories.has(storyId)) delivered++;
      }
    }
    const expected = flagged.length * this.hooks.length;
    return {
      items: items.length,
      flagged: flagged.length,
      expected,
      delivered,
      lost: expected - delivered,
      retries,
      duplicateStories,
    };
  }

  /**
   * Where the undelivered flagged items stopped, by scenario tag: `redis-quick 3 (no alert 3)`.
   * "no alert": the classifier never stored one for the item (lost before or in classification);
   * "alert": stored, but its story never reached the receiver (lost in routing or delivery).
   */
  async lostReport(items: ChaosItem[]): Promise<string> {
    const stories = await this.storiesByUrl();
    const byTag = new Map<string, { lost: number; noAlert: number }>();
    for (const hook of this.hooks) {
      const got = new Set<string>();
      const gotStories = new Set<string>();
      for (const r of hook.received) {
        const data = r.payload.data as { storyId?: string; sources?: Array<{ url?: string }> };
        if (data.storyId) gotStories.add(data.storyId);
        for (const src of data.sources ?? []) if (src.url) got.add(src.url);
      }
      for (const item of items) {
        if (!item.isFlagged || got.has(item.url)) continue;
        const storyId = stories.get(item.url);
        if (storyId && gotStories.has(storyId)) continue;
        const tag = item.guid.slice(0, item.guid.lastIndexOf('-'));
        const t = byTag.get(tag) ?? { lost: 0, noAlert: 0 };
        t.lost++;
        if (!storyId) t.noAlert++;
        byTag.set(tag, t);
      }
    }
    return [...byTag.entries()].map(([tag, t]) => `${tag} ${t.lost} (no alert ${t.noAlert})`).join(', ');
  }

  /** The webhook-ids one receiver verified for these items' stories (any event type). */
  webhookIds(hook: WebhookReceiver, items: ChaosItem[]): Set<string> {
    const mine = new Set(items.map((i) => i.url));
    const ids = new Set<string>();
    for (const r of hook.received) {
      const data = r.payload.data as { sources?: Array<{ url?: string }> };
      if (data.sources?.some((s) => s.url !== undefined && mine.has(s.url))) ids.add(r.id);
    }
    return ids;
  }

  /** Every attempt the notifier's delivery log recorded for these deliveries (webhook-id = delivery id). */
  async attempts(deliveryIds: Iterable<string>): Promise<Map<string, AttemptTimes[]>> {
    const log = new DeliveryLog(this.redis, PREFIX);
    const out = new Map<string, AttemptTimes[]>();
    for (const id of deliveryIds) out.set(id, await log.attempts(id));
    return out;
  }

  /**
   * Per worker, the first job it took (`processedOn`) at or after `since`, from the queue it
   * consumes: how soon it consumed again after Redis came back. undefined: none seen.
   */
  async firstTakenAfter(since: number): Promise<Record<WorkerName, number | undefined>> {
    const consumes: Record<WorkerName, string> = {
      poller: QUEUES.polls,
      classifier: QUEUES.items,
      notifier: QUEUES.deliveries,
    };
    const out = {} as Record<WorkerName, number | undefined>;
    for (const [worker, name] of Object.entries(consumes) as Array<[WorkerName, string]>) {
      const q = this.queues.find((x) => x.name === name);
      const jobs = q ? await q.getJobs(['completed', 'active', 'failed', 'delayed', 'waiting'], 0, 3000) : [];
      const taken = jobs.map((j) => j?.processedOn ?? 0).filter((t) => t >= since);
      out[worker] = taken.length > 0 ? Math.min(...taken) : undefined;
    }
    return out;
  }

  /** Item URL → story id, from the alerts the classifier stored. */
  async storiesByUrl(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let cursor = '0';
    const keys: string[] = [];
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${bullPrefix(PREFIX)}:alert:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    for (let i = 0; i < keys.length; i += 500) {
      const raws = await this.redis.mget(keys.slice(i, i + 500));
      for (const raw of raws) {
        if (!raw) continue;
        const alert = JSON.parse(raw) as Alert;
        if (alert.url) out.set(alert.url, alert.storyId);
        for (const s of alert.sources) if (s.url) out.set(s.url, alert.storyId);
      }
    }
    return out;
  }

  /** Measures until nothing is lost or the time is up; returns the last measure. */
  async settle(items: ChaosItem[], timeoutMs: number): Promise<Measure> {
    const deadline = Date.now() + timeoutMs;
    let m = await this.measure(items);
    while (m.lost > 0 && Date.now() < deadline) {
      await sleep(1000);
      m = await this.measure(items);
    }
    // A moment more, so late duplicates would be counted too.
    await sleep(1500);
    return this.measure(items);
  }

  async counts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const q of this.queues) out[q.name] = await q.getJobCounts('active', 'waiting', 'delayed', 'failed');
    return out;
  }

  /** Failed jobs per queue with their distinct reasons: what a loss turned into. */
  async failedSummary(): Promise<string> {
    const parts: string[] = [];
    for (const q of this.queues) {
      const failed = await q.getFailed(0, 200);
      if (failed.length === 0) continue;
      const reasons = [...new Set(failed.map((j) => j.failedReason.slice(0, 80)))].slice(0, 3);
      parts.push(`${q.name} ${failed.length} failed (${reasons.join(' | ')})`);
    }
    const counts = await this.counts();
    const stuck = Object.entries(counts)
      .map(([name, c]) => `${name} ${c.active ?? 0}/${c.waiting ?? 0}/${c.delayed ?? 0}`)
      .join(', ');
    return `${parts.length ? parts.join('; ') : 'no failed jobs'}; active/waiting/delayed ${stuck}`;
  }

  /**
   * Moves every delayed job (backoff retries, polls re-queued behind a feed lock) to waiting: the
   * time the retry schedule would take (its second step is 5 minutes) without waiting it out.
   */
  async promoteDelayed(): Promise<number> {
    let promoted = 0;
    for (const q of this.queues) {
      promoted += await q.getDelayedCount();
      await q.promoteJobs();
    }
    return promoted;
  }

  async close(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => stop(p, 'SIGKILL', 5_000)));
    // Parts may be missing when start() failed half-way (e.g. the Redis port was taken).
    await Promise.all((this.queues ?? []).map((q) => q.close()).concat(this.polls?.close() ?? []));
    this.redis?.disconnect();
    await this.redisServer.kill();
    await Promise.all([
      this.feeds?.close(),
      this.smtp?.close(),
      ...this.hooks.map((h) => h.close()),
      ...this.forwarders.map((f) => f.close()),
    ]);
  }
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function renderRss(feedId: string, items: ChaosItem[]): string {
  const entries = items
    .map(
      (i) =>
        `<item><title>${xml(i.title)}</title><link>${xml(i.link)}</link><guid isPermaLink="false">${xml(i.guid)}</guid>` +
        `<pubDate>Sun, 29 Nov 2026 08:00:00 GMT</pubDate><description>${xml(i.summary)}</description></item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>${feedId}</title><link>http://127.0.0.1/</link>${entries}</channel></rss>`;
}

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** A made-up company name: random syllables, so stories do not look alike to the SimHash clusterer. */
function company(r: () => number): string {
  const syllables = [
    'zor',
    'va',
    'tek',
    'lu',
    'mer',
    'is',
    'qua',
    'dri',
    'fen',
    'ox',
    'bel',
    'tra',
    'kin',
    'sol',
    'ry',
    'gan',
  ];
  const word = Array.from({ length: 3 }, () => pick(r, syllables)).join('');
  return `${word[0]!.toUpperCase()}${word.slice(1)} ${pick(r, ['Technologies', 'Semiconductor', 'Trading', 'Electronics', 'Logistics'])}`;
}

function story(r: () => number): { title: string; summary: string } {
  const product = pick(r, [
    'AI chips',
    'HBM memory',
    'lithography tools',
    'GPUs',
    'drone parts',
    'machine tools',
    'NVIDIA H20 accelerators',
  ]);
  const country = pick(r, ['China', 'Russia', 'Iran', 'Belarus', 'North Korea']);
  const who = company(r);
  if (r() < 0.55) {
    const title = pick(r, [
      `Commerce Department adds ${who} to the Entity List over ${product} sales to ${country}`,
      `US tightens export controls on ${product} shipments to ${country}, naming ${who}`,
      `Customs officers seize smuggled ${product} bound for ${country}; ${who} under investigation`,
      `OFAC sanctions ${who} for supplying ${product} to ${country}`,
      `EU bans imports of ${product} from ${who} after customs probe`,
    ]);
    return { title, summary: `${title}. Officials said ${who} had shipped ${product} through third countries.` };
  }
  const title = pick(r, [
    `Review: the ${who} ${pick(r, ['laptop', 'phone', 'camera'])} has a ${pick(r, ['bright', 'dim', 'huge'])} screen`,
    `${who} opens a new office and hires ${Math.floor(r() * 500)} engineers`,
    `Recipe: ${pick(r, ['lentil', 'pumpkin', 'miso'])} soup with ${pick(r, ['ginger', 'lime', 'chili'])} in ${Math.floor(r() * 60)} minutes`,
  ]);
  return { title, summary: `${title}. Readers liked it.` };
}
