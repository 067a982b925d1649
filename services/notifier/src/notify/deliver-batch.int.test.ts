import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Alert, QUEUES, type Subscription } from '@regwatch/contracts';
import { silentLogger } from '@regwatch/logger';
import { createAddressPolicy } from '@regwatch/outbound';
import { bullPrefix, createQueue, createRedis } from '@regwatch/queue';
import { AlertStore, DeliveryLog } from '@regwatch/store';
import { type Job, QueueEvents } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Notifier, startNotifier } from '../worker.js';
import { type DeliveryBatchJob, deliveryEntries } from './batch.js';
import { alertJobFor } from './deliver.js';
import type { BatchOutcome } from './deliver-batch.js';
import { JOB_NAMES } from './jobs.js';
import { channelKey, updateDeliveryIdFor } from './keys.js';

const prefix = `test-${randomUUID()}`;
const redis = createRedis(process.env.REDIS_URL, 'worker');
const secret = `whsec_${randomBytes(32).toString('base64')}`;

interface Request {
  id: string;
  status: number;
  /** What `standardwebhooks` verified (undefined: the signature did not verify). */
  payload?: { type: string; data: { id?: string; storyId?: string; sources?: unknown[] } };
}

/**
 * A webhook consumer on 127.0.0.1 that verifies every request with `standardwebhooks` and answers
 * 503 (no Retry-After) to the first `failTimes.get(id)` requests of a webhook id. A webhook id
 * given to `hold` is answered only once its `release` is called; `arrived` resolves on its request.
 */
async function startReceiver() {
  const verifier = new Webhook(secret);
  const requests: Request[] = [];
  const failTimes = new Map<string, number>();
  const held = new Map<string, { arrive: () => void; released: Promise<void> }>();
  const hold = (id: string) => {
    let arrive = () => {};
    let release = () => {};
    const arrived = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    held.set(id, { arrive, released });
    return { arrived, release };
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const holding = held.get(String(req.headers['webhook-id']));
      if (holding) {
        held.delete(String(req.headers['webhook-id']));
        holding.arrive();
        await holding.released;
      }
      const headers = {
        'webhook-id': String(req.headers['webhook-id']),
        'webhook-timestamp': String(req.headers['webhook-timestamp']),
        'webhook-signature': String(req.headers['webhook-signature']),
      };
      let payload: Request['payload'];
      try {
        payload = verifier.verify(Buffer.concat(chunks).toString('utf8'), headers) as Request['payload'];
      } catch {
        payload = undefined;
      }
      const id = headers['webhook-id'];
      const failures = failTimes.get(id) ?? 0;
      if (failures > 0) failTimes.set(id, failures - 1);
      const status = !payload ? 401 : failures > 0 ? 503 : 200;
      requests.push({ id, status, ...(payload ? { payload } : {}) });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/batch`,
    requests,
    failTimes,
    hold,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The schedule the notifier runs on here: attempt 2 after ~300 ms, attempt 3 after ~600 ms more. */
const RETRY_SCHEDULE = [300, 600];

function alert(n: number): Alert {
  return {
    id: `a-batch-${n}`,
    storyId: `st-batch-${n}`,
    itemId: `i-batch-${n}`,
    feedId: 'bis-press',
    title: `Entity List additions, part ${n}`,
    url: `https://www.bis.gov/press/${n}`,
    summary: 'The Bureau of Industry and Security added firms to the Entity List.',
    published: '2026-11-28T10:00:00Z',
    score: 0.9,
    severity: 'high',
    topics: ['export_controls'],
    jurisdictions: ['US'],
    entities: ['BIS'],
    evidence: [],
    rulesVersion: 'r1',
    sources: [{ feedId: 'bis-press', itemId: `i-batch-${n}`, title: 'Entity List', published: '2026-11-28T10:00:00Z' }],
    createdAt: '2026-11-28T10:01:00Z',
  };
}

/** A new array on each change: the notifier rebuilds its subscription index when the getter returns one. */
let subscriptions: readonly Subscription[] = [];
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let notifier: Notifier;
let events: QueueEvents;
let outboxDir: string;
const queue = createQueue(QUEUES.deliveries, { connection: redis, prefix });

beforeAll(async () => {
  receiver = await startReceiver();
  outboxDir = await mkdtemp(join(tmpdir(), 'regwatch-batch-'));
  events = new QueueEvents(QUEUES.deliveries, { connection: redis.duplicate(), prefix: bullPrefix(prefix) });
  await events.waitUntilReady();
  notifier = await startNotifier({
    connection: redis,
    prefix,
    log: silentLogger(),
    policy: createAddressPolicy(['127.0.0.0/8']),
    subscriptions: () => subscriptions,
    email: { outboxDir, from: 'regwatch <alerts@regwatch.test>' },
    publicUrl: 'http://127.0.0.1:8080',
    unsubscribeSecret: 'batch-test-unsubscribe',
    retrySchedule: RETRY_SCHEDULE,
    scheduleSyncMs: 0,
  });
});
afterAll(async () => {
  await notifier?.close();
  await events?.close();
  await queue.close();
  await receiver?.close();
  const keys = await redis.keys(`${bullPrefix(prefix)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  if (outboxDir) await rm(outboxDir, { recursive: true, force: true });
});

describe('a deliver-batch job through the real notifier (real Redis, real receiver)', () => {
  it('sends each delivery once, hands a 503 off to attempt 2 with the same webhook-id, and a re-queued batch sends nothing', async () => {
    const subscription: Subscription = {
      id: 'sub-batch',
      team: 'chips',
      filter: {},
      channels: [{ type: 'webhook', url: receiver.url, secret }],
      mode: 'immediate',
      paused: false,
    };
    subscriptions = [...subscriptions, subscription];
    const key = channelKey(subscription.channels[0]!);
    const alerts = [1, 2, 3].map(alert);
    const store = new AlertStore(redis, { prefix });
    for (const a of alerts) await store.save(a);
    const deliveries = alerts.map((a) => alertJobFor(a, subscription.id, key));
    const [ok1, failing, ok3] = deliveries.map((d) => d.deliveryId) as [string, string, string];
    receiver.failTimes.set(failing, 1);

    // The entry the router would queue for three first deliveries to one channel.
    const entries = deliveryEntries(deliveries, 3);
    expect(entries.map((e) => e.name)).toEqual([JOB_NAMES.deliverBatch]);
    const entry = entries[0]!;
    const batch = await queue.add(entry.name, entry.data, entry.opts);
    const outcome = (await batch.waitUntilFinished(events, 20_000)) as BatchOutcome;
    expect(outcome).toEqual({ sent: 2, skipped: 0, retrying: 1, deferred: 0, dead: 0 });

    // The failed one left the batch as its own deliver job, starting at attempt 2 of the 3-attempt schedule.
    const handedOff = (await queue.getJob(failing)) as Job;
    expect(handedOff.name).toBe(JOB_NAMES.deliver);
    expect(handedOff.data).toMatchObject({ deliveryId: failing, firstAttempt: 2 });
    expect(handedOff.opts.attempts).toBe(2);
    expect(await handedOff.waitUntilFinished(events, 20_000)).toMatchObject({ sent: true });

    const byId = (id: string) => receiver.requests.filter((r) => r.id === id);
    expect(receiver.requests.every((r) => r.payload !== undefined)).toBe(true);
    expect(byId(ok1).map((r) => r.status)).toEqual([200]);
    expect(byId(ok3).map((r) => r.status)).toEqual([200]);
    // Same webhook-id both times, so a receiver that saw the first can drop a duplicate.
    expect(byId(failing).map((r) => r.status)).toEqual([503, 200]);
    expect(byId(failing)[1]!.payload!.data).toMatchObject({ id: 'a-batch-2', storyId: 'st-batch-2' });

    const log = new DeliveryLog(redis, prefix);
    const attempts = await log.attempts(failing);
    expect(attempts.map((a) => [a.attempt, a.ok, a.code])).toEqual([
      [1, false, 503],
      [2, true, 200],
    ]);
    // The second attempt came on the schedule's first step (300 ms ± 20 %), not at once.
    expect(Date.parse(attempts[1]!.at) - Date.parse(attempts[0]!.at)).toBeGreaterThanOrEqual(240);
    expect((await log.attempts(ok1)).map((a) => [a.attempt, a.ok])).toEqual([[1, true]]);
    expect((await log.attempts(ok3)).map((a) => [a.attempt, a.ok])).toEqual([[1, true]]);
    expect(await log.status(failing)).toMatchObject({ state: 'delivered' });

    // The same batch again under a new job id (a second router, a replay): everything is delivered.
    const requestsBefore = receiver.requests.length;
    const again = await queue.add(JOB_NAMES.deliverBatch, entry.data as DeliveryBatchJob, {
      ...entry.opts,
      jobId: `${entry.opts.jobId}-again`,
    });
    expect(await again.waitUntilFinished(events, 20_000)).toEqual({
      sent: 0,
      skipped: 3,
      retrying: 0,
      deferred: 0,
      dead: 0,
    });
    expect(receiver.requests).toHaveLength(requestsBefore);
  });
  it('counts the batch attempt in the handed-off job: its next failure waits the second step, its last is attempt 3', async () => {
    const subscription: Subscription = {
      id: 'sub-batch-2',
      team: 'chips',
      filter: {},
      channels: [{ type: 'webhook', url: `${receiver.url}/second`, secret }],
      mode: 'immediate',
      paused: false,
    };
    subscriptions = [...subscriptions, subscription];
    const key = channelKey(subscription.channels[0]!);
    const alerts = [4, 5].map(alert);
    const store = new AlertStore(redis, { prefix });
    for (const a of alerts) await store.save(a);
    const deliveries = alerts.map((a) => alertJobFor(a, subscription.id, key));
    const flaky = deliveries[0]!.deliveryId;
    receiver.failTimes.set(flaky, 2);

    const entry = deliveryEntries(deliveries, 3)[0]!;
    const batch = await queue.add(entry.name, entry.data, entry.opts);
    expect(await batch.waitUntilFinished(events, 20_000)).toMatchObject({ sent: 1, retrying: 1 });
    const handedOff = (await queue.getJob(flaky)) as Job;
    expect(await handedOff.waitUntilFinished(events, 20_000)).toMatchObject({ sent: true });

    expect(receiver.requests.filter((r) => r.id === flaky).map((r) => r.status)).toEqual([503, 503, 200]);
    const attempts = await new DeliveryLog(redis, prefix).attempts(flaky);
    expect(attempts.map((a) => [a.attempt, a.ok])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    // After attempt 2 the schedule's second step (600 ms ± 20 %), not its first again.
    const gap = (i: number) => Date.parse(attempts[i]!.at) - Date.parse(attempts[i - 1]!.at);
    expect(gap(1)).toBeGreaterThanOrEqual(RETRY_SCHEDULE[0]! * 0.8);
    expect(gap(2)).toBeGreaterThanOrEqual(RETRY_SCHEDULE[1]! * 0.8);
  });

  it("reads the batch's stories in one call, and a source saved while a delivery is out still reaches the endpoint as alert.updated", async () => {
    const subscription: Subscription = {
      id: 'sub-batch-3',
      team: 'chips',
      filter: {},
      channels: [{ type: 'webhook', url: `${receiver.url}/third`, secret }],
      mode: 'immediate',
      paused: false,
    };
    subscriptions = [...subscriptions, subscription];
    const key = channelKey(subscription.channels[0]!);
    const alerts = [6, 7].map(alert);
    const store = new AlertStore(redis, { prefix });
    for (const a of alerts) await store.save(a);
    const deliveries = alerts.map((a) => alertJobFor(a, subscription.id, key));
    const holds = deliveries.map((d) => receiver.hold(d.deliveryId));
    const stories = vi.spyOn(AlertStore.prototype, 'stories');
    const story = vi.spyOn(AlertStore.prototype, 'story');
    try {
      const entry = deliveryEntries(deliveries, 3)[0]!;
      const batch = await queue.add(entry.name, entry.data, entry.opts);
      // Both deliveries are out (their stories read, one source each): each story gains a second source.
      await Promise.all(holds.map((h) => h.arrived));
      for (const a of alerts) {
        await store.save({
          ...a,
          id: `${a.id}-b`,
          itemId: `${a.itemId}-b`,
          feedId: 'ofac-recent',
          sources: [{ feedId: 'ofac-recent', itemId: `${a.itemId}-b`, title: a.title, published: a.published }],
          createdAt: '2026-11-28T10:05:00Z',
        });
      }
      for (const h of holds) h.release();
      expect(await batch.waitUntilFinished(events, 20_000)).toMatchObject({ sent: 2 });
      // One script call for the batch's stories.
      expect(stories.mock.calls).toEqual([[alerts.map((a) => a.storyId)]]);

      for (const a of alerts) {
        const updateId = updateDeliveryIdFor(a.storyId, subscription.id, key, 2);
        const update = (await queue.getJob(updateId)) as Job;
        expect(await update.waitUntilFinished(events, 20_000)).toMatchObject({ sent: true, sources: 2 });
        const payloads = receiver.requests.filter((r) => r.payload?.data.storyId === a.storyId).map((r) => r.payload!);
        expect(payloads.map((p) => [p.type, p.data.id, p.data.sources?.length])).toEqual([
          ['alert.created', a.id, 1],
          ['alert.updated', a.id, 2],
        ]);
      }
      // A story read of its own only by each update's job (not by the batch's deliveries).
      expect(story.mock.calls.map(([id]) => id).sort()).toEqual(alerts.map((a) => a.storyId).sort());
    } finally {
      stories.mockRestore();
      story.mockRestore();
    }
  });
});
