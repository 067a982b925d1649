import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { QUEUES, type Subscription } from '@regwatch/contracts';
import { silentLogger } from '@regwatch/logger';
import { createAddressPolicy } from '@regwatch/outbound';
import { bullPrefix, createQueue, createRedis, DEFAULT_REDIS_URL } from '@regwatch/queue';
import { AlertStore } from '@regwatch/store';
import { Webhook } from 'standardwebhooks';
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
  const verifier = new Webhook(secret);
  const ids = new Set<string>();
  const stats = { requests: 0, verified: 0, bad: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      stats.requests++;
      if (stats.requests % verifyEvery === 1 || verifyEvery === 1) {
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
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
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
    const deadline = Date.now() + (options.timeoutMs ?? 60_000 + 20 * count);
    while (ids.size < count) {
      if (Date.now() > deadline) throw new Error(`bench timed out: ${ids.size}/${count} deliveries received`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const elapsedMs = performance.now() - started;
    options.onMeasure?.('stop');
    return {
      count,
      elapsedMs: Math.round(elapsedMs),
      deliveriesPerSec: Math.round((count / elapsedMs) * 1000),
      received: ids.size,
      requests: stats.requests,
      verified: stats.verified,
      badSignatures: stats.bad,
      concurrency,
    };
  } finally {
    await notifier?.close();
    await queue.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(outboxDir, { recursive: true, force: true });
  }
}

async function deletePrefix(redis: ReturnType<typeof createRedis>, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${bullPrefix(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
