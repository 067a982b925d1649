import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { QUEUES, type Subscription } from '@regwatch/contracts';
import { silentLogger } from '@regwatch/logger';
import { createAddressPolicy } from '@regwatch/outbound';
import { bullPrefix, createQueue, createRedis, DEFAULT_REDIS_URL } from '@regwatch/queue';
import { AlertStore } from '@regwatch/store';
import { deliveryJobOptions } from '../notify/admin.js';
import { JOB_NAMES, type NotifierDeliveryJob } from '../notify/jobs.js';
import { channelKey, deliveryIdFor } from '../notify/keys.js';
import { makeAlert, makeWorld, seededRng } from '../routing/population.js';
import { startNotifier } from '../worker.js';

export interface DeliveryBenchOptions {
  /** Delivery jobs to run. */
  count: number;
  /** Default `redis://127.0.0.1:6379`. */
  redisUrl?: string;
  /** Delivery worker concurrency. Default 32, the notifier's default. */
  concurrency?: number;
  /** The sink verifies every n-th request's signature with `standardwebhooks` (it costs the sink CPU). Default 25. */
  verifyEvery?: number;
  /** Give up after this long. Default 60 s + 20 ms per delivery. */
  timeoutMs?: number;
  /** Called when the clock starts and stops (to profile only the measured part). */
  onMeasure?: (phase: 'start' | 'stop') => void;
}

export interface DeliveryBenchResult {
  count: number;
  /** From starting the notifier to the last delivery received. */
  elapsedMs: number;
  deliveriesPerSec: number;
  /** Distinct `webhook-id`s the sink received, and requests in all (more means a duplicate). */
  received: number;
  requests: number;
  /** Requests whose signature the sink checked, and how many failed. */
  verified: number;
  badSignatures: number;
  concurrency: number;
  /**
   * CPU time of the notifier's thread per delivery (the sink runs on another thread; Redis is not
   * counted): what one delivery costs, whatever else the machine is running.
   */
  cpuMsPerDelivery: number;
  /** Deliveries per second one notifier process would sustain on a core of its own (1000 / cpuMsPerDelivery). */
  capacityPerSec: number;
}

/**
 * Runs `count` delivery jobs through the real notifier worker (the same `deliver` path: channel
 * health, story load from the AlertStore, signed webhook through the SSRF-guarded client, delivery
 * log, update watch) to a webhook sink on 127.0.0.1, on a throw-away Redis prefix that is deleted
 * afterwards. Jobs and stored alerts are prepared before the clock starts.
 *
 * The sink is one endpoint, so the per-endpoint limits (4 at once, 20/s by default) are lifted
 * here: they would measure the limit, not the notifier.
 */
export async function benchDeliveries(options: DeliveryBenchOptions): Promise<DeliveryBenchResult> {
  const count = options.count;
  const concurrency = options.concurrency ?? 32;
  const verifyEvery = Math.max(1, options.verifyEvery ?? 25);
  const redis = createRedis(options.redisUrl ?? DEFAULT_REDIS_URL, 'worker');
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const sink = await startSink(secret, verifyEvery);
  const port = sink.port;
  const outboxDir = await mkdtemp(join(tmpdir(), 'regwatch-bench-'));
  const subscription: Subscription = {
    id: 'bench',
    team: 'bench',
    filter: {},
    channels: [{ type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret }],
    mode: 'immediate',
    paused: false,
  };
  const subscriptions = [subscription];
  const key = channelKey(subscription.channels[0]!);
  const queue = createQueue(QUEUES.deliveries, { connection: redis, prefix });
  let notifier: Awaited<ReturnType<typeof startNotifier>> | undefined;
  try {
    // Prepare: one stored alert (one story) per delivery, and the queued jobs.
    const store = new AlertStore(redis, { prefix });
    const rng = seededRng(7);
    const world = makeWorld(rng);
    const jobs: NotifierDeliveryJob[] = [];
    for (let start = 0; start < count; start += 500) {
      const batch = Array.from({ length: Math.min(500, count - start) }, (_, k) => makeAlert(start + k, world, rng));
      await Promise.all(batch.map((a) => store.save(a)));
      for (const a of batch) {
        jobs.push({
          v: 1,
          kind: 'alert',
          deliveryId: deliveryIdFor(a.storyId, subscription.id, key),
          alertId: a.id,
          storyId: a.storyId,
          subscriptionId: subscription.id,
          channelKey: key,
        });
      }
    }
    for (let start = 0; start < jobs.length; start += 1000) {
      await queue.addBulk(
        jobs.slice(start, start + 1000).map((data) => ({
          name: JOB_NAMES.deliver,
          data,
          opts: deliveryJobOptions(data.deliveryId),
        })),
      );
    }
    options.onMeasure?.('start');
    const started = performance.now();
    const cpuBefore = await mainThreadCpuMs();
    notifier = await startNotifier({
      connection: redis,
      prefix,
      log: silentLogger(),
      policy: createAddressPolicy(['127.0.0.0/8']),
      subscriptions: () => subscriptions,
      email: { outboxDir, from: 'bench <bench@regwatch.test>' },
      publicUrl: 'http://127.0.0.1:9',
      unsubscribeSecret: 'bench-unsubscribe-secret',
      concurrency: { deliveries: concurrency, alerts: 1 },
      endpointLimits: { concurrency: 1_000, ratePerSecond: Number.POSITIVE_INFINITY },
      scheduleSyncMs: 0,
    });
    await sink.waitFor(count, options.timeoutMs ?? 60_000 + 20 * count);
    const elapsedMs = performance.now() - started;
    const cpuMs = (await mainThreadCpuMs()) - cpuBefore;
    options.onMeasure?.('stop');
    const stats = await sink.stats();
    const cpuMsPerDelivery = cpuMs / count;
    return {
      count,
      elapsedMs: Math.round(elapsedMs),
      deliveriesPerSec: Math.round((count / elapsedMs) * 1000),
      received: stats.received,
      requests: stats.requests,
      verified: stats.verified,
      badSignatures: stats.bad,
      concurrency,
      cpuMsPerDelivery: Math.round(cpuMsPerDelivery * 1000) / 1000,
      capacityPerSec: Math.round(1000 / cpuMsPerDelivery),
    };
  } finally {
    await notifier?.close();
    await queue.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
    await sink.close();
    await rm(outboxDir, { recursive: true, force: true });
  }
}

/**
 * CPU time (user + system) of this process's main thread, ms: on Linux from
 * /proc/self/task/<pid>/stat (clock ticks of 10 ms), elsewhere the whole process's
 * (`process.cpuUsage`, which then includes the sink thread). Node 20 has no per-thread call.
 */
async function mainThreadCpuMs(): Promise<number> {
  try {
    const stat = await readFile(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5) (utime, stime) are the 12th and 13th after the command name.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
}

interface SinkStats {
  received: number;
  requests: number;
  verified: number;
  bad: number;
}

// The sink runs on its own thread so its HTTP parsing and signature checks do not share the
// notifier's event loop: the figures are the notifier's. Plain JS (eval), so it runs the same from
// the TypeScript sources (tests) and from dist.
const SINK_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createServer } = require('node:http');
const { Webhook } = require(workerData.standardwebhooks);
const verifier = new Webhook(workerData.secret);
const ids = new Set();
const stats = { requests: 0, verified: 0, bad: 0 };
let want = Infinity;
const report = () => parentPort.postMessage({ type: 'stats', stats: { ...stats, received: ids.size } });
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const id = String(req.headers['webhook-id']);
    stats.requests++;
    if (workerData.verifyEvery === 1 || stats.requests % workerData.verifyEvery === 1) {
      stats.verified++;
      try {
        verifier.verify(Buffer.concat(chunks).toString('utf8'), {
          'webhook-id': id,
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        });
      } catch {
        stats.bad++;
      }
    }
    ids.add(id);
    res.writeHead(204).end();
    if (ids.size >= want) { want = Infinity; report(); }
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ type: 'listening', port: server.address().port }));
parentPort.on('message', (m) => {
  if (m.type === 'wait') { want = m.count; if (ids.size >= want) { want = Infinity; report(); } }
  else if (m.type === 'stats') report();
  else if (m.type === 'close') { server.closeAllConnections(); server.close(() => process.exit(0)); }
});
`;

async function startSink(secret: string, verifyEvery: number) {
  const worker = new Worker(SINK_SOURCE, {
    eval: true,
    workerData: { secret, verifyEvery, standardwebhooks: createRequire(import.meta.url).resolve('standardwebhooks') },
  });
  const next = (type: string) =>
    new Promise<{ port?: number; stats?: SinkStats }>((resolve, reject) => {
      const onMessage = (m: { type: string; port?: number; stats?: SinkStats }) => {
        if (m.type !== type) return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(m);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  const { port } = await next('listening');
  return {
    port: port!,
    /** Resolves once `count` distinct webhook-ids arrived. */
    waitFor: async (count: number, timeoutMs: number) => {
      const done = next('stats');
      worker.postMessage({ type: 'wait', count });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`bench timed out waiting for ${count} deliveries`)), timeoutMs);
      });
      try {
        await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    stats: async () => {
      const reply = next('stats');
      worker.postMessage({ type: 'stats' });
      return (await reply).stats!;
    },
    close: async () => {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage({ type: 'close' });
      await exited;
    },
  };
}

async function deletePrefix(redis: ReturnType<typeof createRedis>, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${bullPrefix(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
