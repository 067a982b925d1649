import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Alert, QUEUES, type Subscription } from '@regwatch/contracts';
import { silentLogger } from '@regwatch/logger';
import {
  ChannelHealthStore,
  channelKey,
  deliveryIdFor,
  digestDeliveryIdFor,
  type Notifier,
  type NotifierDeps,
  startNotifier,
  updateDeliveryIdFor,
  verifyUnsubscribeToken,
} from '@regwatch/notifier';
import { createAddressPolicy } from '@regwatch/outbound';
import { createQueue } from '@regwatch/queue';
import { AlertStore, DeadLetterStore, DeliveryLog } from '@regwatch/store';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { deletePrefix, type SmtpSink, startSmtpSink, testPrefix, testRedis, waitUntil } from '../helpers/index.js';

const policy = createAddressPolicy(['127.0.0.0/8']);
const UNSUBSCRIBE_SECRET = 'notifier-e2e-unsubscribe-secret';
const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

// ---------------------------------------------------------------------------------------------
// A webhook receiver that verifies every request with standardwebhooks and answers from a script,
// recording every request (not only the ones it accepts), so retries can be compared.

type Reply = number | 'hang' | { status: number; afterMs: number };

interface Hit {
  id: string;
  headers: IncomingHttpHeaders;
  verified: boolean;
  payload: { type: string; timestamp: string; data: Record<string, unknown> } | undefined;
  status: number | 'hang';
  at: number;
}

async function startReceiver(secret: string) {
  const verifier = new Webhook(secret);
  const hits: Hit[] = [];
  const script: Reply[] = [];
  const state = { answered: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let payload: Hit['payload'];
      try {
        payload = verifier.verify(body, {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        }) as Hit['payload'];
      } catch {
        payload = undefined;
      }
      const reply = script.shift() ?? (payload ? 200 : 401);
      const status = typeof reply === 'object' ? reply.status : reply;
      hits.push({
        id: String(req.headers['webhook-id']),
        headers: req.headers,
        verified: payload !== undefined,
        payload,
        status,
        at: Date.now(),
      });
      const answer = (code: number, r: ServerResponse) => {
        state.answered++;
        r.writeHead(code, { 'content-type': 'application/json' }).end('{}');
      };
      if (reply === 'hang') return;
      if (typeof reply === 'object') setTimeout(() => answer(reply.status, res), reply.afterMs);
      else answer(reply, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook/t0k3n`,
    hits,
    /** Requests answered 2xx with a verified signature. */
    accepted: () => hits.filter((h) => h.verified && typeof h.status === 'number' && h.status < 300),
    get answered() {
      return state.answered;
    },
    reply: (...r: Reply[]) => script.push(...r),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

// ---------------------------------------------------------------------------------------------

let seq = 0;
function alertOf(over: Partial<Alert> & { storyId: string }): Alert {
  const n = ++seq;
  const feedId = over.feedId ?? 'bis-press';
  const title = over.title ?? `Commerce adds Acme Robotics ${n} to the Entity List`;
  const at = new Date(Date.UTC(2026, 10, 28, 9, 0, 0) + n * 1000).toISOString();
  return {
    id: `alert-${n}`,
    itemId: `item-${n}`,
    feedId,
    title,
    url: `https://news.example.com/${n}`,
    summary: 'The Bureau of Industry and Security added Acme Robotics to the Entity List.',
    published: at,
    score: 0.9,
    severity: 'high',
    topics: ['export_controls'],
    jurisdictions: ['US'],
    entities: ['BIS'],
    evidence: [],
    rulesVersion: 'e2e',
    sources: [{ feedId, itemId: `item-${n}`, url: `https://news.example.com/${n}`, title, published: at }],
    createdAt: at,
    ...over,
  };
}

function subscriptionOf(
  id: string,
  channels: Subscription['channels'],
  over: Partial<Subscription> = {},
): Subscription {
  return { id, team: 'chips', filter: {}, channels, mode: 'immediate', paused: false, ...over };
}

interface Harness {
  prefix: string;
  redis: Redis;
  notifier: Notifier;
  smtp: SmtpSink;
  alertsQueue: Queue;
  deliveries: Queue;
  store: AlertStore;
  log: DeliveryLog;
  deadLetters: DeadLetterStore;
  health: ChannelHealthStore;
  /** Saves the alert (as the classifier does) and queues it for routing. */
  route(alert: Alert): Promise<void>;
  /** Waits until the alerts and deliveries queues have nothing waiting, active or delayed. */
  settle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const harnesses: Harness[] = [];
const receivers: Receiver[] = [];
afterEach(async () => {
  while (harnesses.length > 0) await harnesses.pop()!.close();
  while (receivers.length > 0) await receivers.pop()!.close();
});

async function receiver(secret: string): Promise<Receiver> {
  const r = await startReceiver(secret);
  receivers.push(r);
  return r;
}

async function harness(subscriptions: Subscription[], over: Partial<NotifierDeps> = {}): Promise<Harness> {
  const prefix = testPrefix();
  const redis = testRedis();
  const smtp = await startSmtpSink();
  const notifier = await startNotifier({
    connection: redis,
    prefix,
    log: silentLogger(),
    policy,
    subscriptions: () => subscriptions,
    email: { smtpUrl: smtp.url, from: 'regwatch <alerts@regwatch.test>' },
    publicUrl: 'https://regwatch.example.com/',
    unsubscribeSecret: UNSUBSCRIBE_SECRET,
    deliveryBackoff: () => 50,
    scheduleSyncMs: 0,
    ...over,
  });
  const alertsQueue = createQueue(QUEUES.alerts, { connection: redis, prefix });
  const deliveries = createQueue(QUEUES.deliveries, { connection: redis, prefix });
  const store = new AlertStore(redis, { prefix });
  let routed = 0;
  const h: Harness = {
    prefix,
    redis,
    notifier,
    smtp,
    alertsQueue,
    deliveries,
    store,
    log: new DeliveryLog(redis, prefix),
    deadLetters: new DeadLetterStore(redis, prefix),
    health: new ChannelHealthStore(redis, prefix),
    route: async (alert) => {
      await store.save(alert);
      await alertsQueue.add('alert', { v: 1, alert }, { jobId: `alert-${alert.id}-${++routed}` });
    },
    settle: async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const counts = await Promise.all(
          [alertsQueue, deliveries].map((q) => q.getJobCounts('waiting', 'active', 'prioritized')),
        );
        // Job schedulers (digests) always keep their next run in the delayed set.
        const delayed = (await deliveries.getDelayed()).filter((j) => !j.id?.startsWith('repeat:'));
        if (delayed.length === 0 && counts.every((c) => Object.values(c).every((n) => n === 0))) return;
        if (Date.now() > deadline)
          throw new Error(`queues did not settle: ${JSON.stringify({ counts, delayed: delayed.length })}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: async () => {
      await notifier.close();
      await Promise.all([alertsQueue.close(), deliveries.close()]);
      await deletePrefix(redis, prefix);
      await redis.quit();
      await smtp.close();
    },
  };
  harnesses.push(h);
  return h;
}

const until = (check: () => boolean, what: string, timeoutMs = 10_000) => waitUntil(check, timeoutMs, () => what);

async function untilAsync(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---------------------------------------------------------------------------------------------

describe('notifier end to end: real workers, Redis, SMTP server and a verifying webhook receiver', () => {
  it('retries 500, 500, 200 with one webhook-id throughout, emails once, and logs every attempt', async () => {
    const secret = newSecret();
    const hook = await receiver(secret);
    hook.reply(500, 500);
    const webhook = { type: 'webhook' as const, url: hook.url, secret };
    const email = { type: 'email' as const, to: ['compliance@example.com'] };
    const sub = subscriptionOf('chips-team', [webhook, email]);
    const h = await harness([sub]);
    const alert = alertOf({ storyId: 'story-retry' });
    await h.route(alert);

    await until(() => hook.accepted().length === 1, 'the webhook to be accepted');
    const [mail] = await h.smtp.waitFor(1);
    await h.settle();

    const id = deliveryIdFor(alert.storyId, sub.id, channelKey(webhook));
    expect(hook.hits.map((x) => x.status)).toEqual([500, 500, 200]);
    expect(hook.hits.every((x) => x.verified)).toBe(true);
    expect(new Set(hook.hits.map((x) => x.id))).toEqual(new Set([id]));
    expect(hook.accepted()[0]!.payload).toMatchObject({ type: 'alert.created', data: { id: alert.id, why: ['all'] } });
    expect(h.smtp.received).toHaveLength(1);
    expect(mail!.envelope.to).toEqual(['compliance@example.com']);

    const attempts = await h.log.attempts(id);
    expect(attempts.map((a) => [a.attempt, a.ok, a.code])).toEqual([
      [1, false, 500],
      [2, false, 500],
      [3, true, 200],
    ]);
    expect(attempts[0]!.error).toMatch(/^WEBHOOK_SERVER_ERROR: /);
    expect(await h.log.status(id)).toMatchObject({ state: 'delivered', attempts: 3, code: 200, sources: 1 });
    const byStory = await h.log.listForStory(alert.storyId);
    expect(byStory.map((r) => r.deliveryId).sort()).toEqual(
      [id, deliveryIdFor(alert.storyId, sub.id, channelKey(email))].sort(),
    );
    expect((await h.log.listForAlert(alert.id)).map((r) => r.status?.state)).toEqual(['delivered', 'delivered']);
    // Failures were forgotten once the endpoint answered.
    expect((await h.health.get(sub.id, channelKey(webhook))).consecutiveFailures).toBe(0);

    // The unsubscribe link is signed with the configured secret (the api honours it).
    // Unfolded (RFC 5322 §2.2.3): a long header is wrapped at whitespace.
    const header = (mail!.mail.headerLines.find((l) => l.key === 'list-unsubscribe')?.line ?? '').replace(
      /\r\n(?=[ \t])/g,
      '',
    );
    const token = /[?&]token=([A-Za-z0-9._-]+)/.exec(header)?.[1];
    expect(header).toMatch(/^List-Unsubscribe: <https:\/\/regwatch\.example\.com\/v1\/unsubscribe\?token=/);
    expect(verifyUnsubscribeToken(token!, UNSUBSCRIBE_SECRET)).toEqual({
      subscriptionId: 'chips-team',
      email: 'compliance@example.com',
    });
    expect(verifyUnsubscribeToken(token!, 'another-secret-of-16-bytes')).toBeNull();
  });

  it('410 disables the endpoint, dead-letters the delivery and emails the team; replay after enabling keeps the webhook-id', async () => {
    const secret = newSecret();
    const hook = await receiver(secret);
    hook.reply(410);
    const webhook = { type: 'webhook' as const, url: hook.url, secret };
    const sub = subscriptionOf('gone-team', [webhook], { contact: ['ops@team.example'] });
    const h = await harness([sub]);
    const key = channelKey(webhook);
    const first = alertOf({ storyId: 'story-gone-1' });
    await h.route(first);

    const [notice] = await h.smtp.waitFor(1);
    await h.settle();
    const firstId = deliveryIdFor(first.storyId, sub.id, key);
    expect(hook.hits.map((x) => x.status)).toEqual([410]);
    expect(await h.health.get(sub.id, key)).toMatchObject({ disabled: true, disabledReason: 'WEBHOOK_GONE' });
    expect(await h.deadLetters.get(firstId)).toMatchObject({
      deliveryId: firstId,
      alertId: first.id,
      storyId: first.storyId,
      subscriptionId: sub.id,
      channel: 'webhook',
      reason: 'WEBHOOK_GONE',
      attempts: 1,
    });
    expect(await h.log.status(firstId)).toMatchObject({ state: 'dead', error: 'WEBHOOK_GONE' });
    expect(notice!.envelope.to).toEqual(['ops@team.example']);
    expect(notice!.mail.subject).toMatch(/Webhook endpoint disabled: 127\.0\.0\.1:\d+ \(gone-team\)/);
    expect(notice!.mail.text).toContain('410 Gone');
    expect(notice!.mail.text).not.toContain('t0k3n'); // never the URL's path

    // While disabled, nothing is sent: the delivery is dead-lettered with the reason.
    const second = alertOf({ storyId: 'story-gone-2' });
    await h.route(second);
    const secondId = deliveryIdFor(second.storyId, sub.id, key);
    await untilAsync(async () => (await h.deadLetters.get(secondId)) !== undefined, 'the second dead letter');
    await h.settle();
    expect(hook.hits).toHaveLength(1);
    expect((await h.deadLetters.get(secondId))!.reason).toBe('ENDPOINT_DISABLED');
    expect(h.smtp.received).toHaveLength(1); // one notice per disabling
    expect((await h.deadLetters.list({ subscriptionId: sub.id })).map((d) => d.id)).toEqual([secondId, firstId]);

    // The team fixed the endpoint: enable it, replay both.
    expect(await h.notifier.enableChannel(sub.id, key)).toBe(true);
    expect(await h.notifier.replayDeadLetter(firstId)).toBe(`${firstId}-r1`);
    expect(await h.notifier.replayDeadLetter(secondId)).toBe(`${secondId}-r1`);
    expect(await h.notifier.replayDeadLetter('no-such-letter')).toBeUndefined();
    await until(() => hook.accepted().length === 2, 'both replays');
    await h.settle();
    expect(
      hook
        .accepted()
        .map((x) => x.id)
        .sort(),
    ).toEqual([firstId, secondId].sort());
    expect(await h.deadLetters.count()).toBe(0);
    expect(await h.log.status(firstId)).toMatchObject({ state: 'delivered' });
  });

  it('disables an endpoint that keeps failing past the configured period and tells the email channel', async () => {
    const secret = newSecret();
    const hook = await receiver(secret);
    hook.reply(...Array.from({ length: 20 }, () => 503));
    const webhook = { type: 'webhook' as const, url: hook.url, secret };
    const email = { type: 'email' as const, to: ['desk@team.example'] };
    const sub = subscriptionOf('flaky-team', [webhook, email]);
    // 150 ms of failures with no success disables it; seven attempts 50 ms apart take longer.
    const h = await harness([sub], { disableAfterHours: 150 / 3_600_000 });
    const alert = alertOf({ storyId: 'story-flaky' });
    await h.route(alert);

    const id = deliveryIdFor(alert.storyId, sub.id, channelKey(webhook));
    await untilAsync(async () => (await h.deadLetters.get(id)) !== undefined, 'the dead letter');
    await until(() => h.smtp.received.length === 2, 'the alert email and the notice');
    await h.settle();
    const health = await h.health.get(sub.id, channelKey(webhook));
    expect(health).toMatchObject({ disabled: true, disabledReason: 'FAILING' });
    expect(health.consecutiveFailures).toBeGreaterThanOrEqual(3);
    expect((await h.deadLetters.get(id))!.reason).toBe('ENDPOINT_DISABLED');
    const notice = h.smtp.received.find((m) => /endpoint disabled/.test(m.mail.subject ?? ''))!;
    expect(notice.envelope.to).toEqual(['desk@team.example']);
    expect(notice.mail.text).toMatch(/has failed since/);
    expect(await h.health.listDisabled()).toHaveLength(1);
  });

  it('times out a receiver that never answers and delivers on the retry', async () => {
    const secret = newSecret();
    const hook = await receiver(secret);
    hook.reply('hang');
    const webhook = { type: 'webhook' as const, url: hook.url, secret };
    const sub = subscriptionOf('timeout-team', [webhook]);
    const h = await harness([sub], { webhookTimeoutMs: 1_000 });
    const alert = alertOf({ storyId: 'story-timeout' });
    await h.route(alert);
    await until(() => hook.accepted().length === 1, 'the retried webhook');
    await h.settle();
    const id = deliveryIdFor(alert.storyId, sub.id, channelKey(webhook));
    const attempts = await h.log.attempts(id);
    expect(attempts.map((a) => a.ok)).toEqual([false, true]);
    expect(attempts[0]!.error).toMatch(/^WEBHOOK_TIMEOUT: .*within 1000 ms/);
    expect(new Set(hook.hits.map((x) => x.id))).toEqual(new Set([id]));
  });

  it('retries SMTP 451, and dead-letters a 550 with its reason without disabling the channel', async () => {
    const email = { type: 'email' as const, to: ['compliance@example.com'] };
    const sub = subscriptionOf('mail-team', [email]);
    const h = await harness([sub]);
    h.smtp.failNext(451);
    const deferred = alertOf({ storyId: 'story-451' });
    await h.route(deferred);
    await h.smtp.waitFor(1);
    await h.settle();
    const deferredId = deliveryIdFor(deferred.storyId, sub.id, channelKey(email));
    expect((await h.log.attempts(deferredId)).map((a) => [a.ok, a.code])).toEqual([
      [false, 451],
      [true, 250],
    ]);

    h.smtp.failNext(550);
    const rejected = alertOf({ storyId: 'story-550' });
    await h.route(rejected);
    const rejectedId = deliveryIdFor(rejected.storyId, sub.id, channelKey(email));
    await untilAsync(async () => (await h.deadLetters.get(rejectedId)) !== undefined, 'the 550 dead letter');
    await h.settle();
    expect(await h.deadLetters.get(rejectedId)).toMatchObject({
      reason: 'SMTP_REJECTED',
      channel: 'email',
      attempts: 1,
      message: expect.stringMatching(/550/),
    });
    expect(h.smtp.received).toHaveLength(1);
    expect((await h.health.get(sub.id, channelKey(email))).disabled).toBe(false);
  });

  it('keeps a hostile title out of the mail headers and the HTML, and sends it verbatim in the signed JSON', async () => {
    const secret = newSecret();
    const hook = await receiver(secret);
    const webhook = { type: 'webhook' as const, url: hook.url, secret };
    const email = { type: 'email' as const, to: ['compliance@example.com'] };
    const h = await harness([subscriptionOf('hostile', [webhook, email])]);
    const title = 'Export ban widened\r\nBcc: victim@evil.example\r\n\r\n<script>alert(1)</script>';
    await h.route(alertOf({ storyId: 'story-hostile', title }));
    const [mail] = await h.smtp.waitFor(1);
    await until(() => hook.accepted().length === 1, 'the webhook');
    expect(mail!.envelope.to).toEqual(['compliance@example.com']);
    expect(mail!.mail.bcc).toBeUndefined();
    expect(mail!.mail.headers.has('bcc')).toBe(false);
    expect(mail!.mail.subject).not.toMatch(/[\r\n]/);
    expect(mail!.mail.subject).toContain('Export ban widened');
    expect(mail!.mail.html || '').not.toContain('<script>');
    expect(mail!.mail.html || '').toContain('&lt;script&gt;');
    expect(hook.accepted()[0]!.payload!.data['title']).toBe(title);
  });

  it('two feeds carrying one story before delivery: one delivery per channel listing both sources', async () => {
    const secret = newSecret();
    const hook = await receiver(secret);
    const webhook = { type: 'webhook' as const, url: hook.url, secret };
    const email = { type: 'email' as const, to: ['compliance@example.com'] };
    const sub = subscriptionOf('two-feeds', [webhook, email]);
    const h = await harness([sub]);
    const a = alertOf({ storyId: 'story-shared', feedId: 'bis-press' });
    const b = alertOf({ storyId: 'story-shared', feedId: 'reuters-trade' });
    // Both sources are stored before either is routed: the delivery, whenever it runs, sees both.
    await h.store.save(a);
    await h.store.save(b);
    await h.route(a);
    await h.route(b);
    await until(() => hook.accepted().length === 1, 'the webhook');
    await h.smtp.waitFor(1);
    await h.settle();
    expect(hook.hits).toHaveLength(1);
    expect(h.smtp.received).toHaveLength(1);
    const payload = hook.accepted()[0]!.payload!;
    expect(payload.type).toBe('alert.created');
    expect((payload.data['sources'] as Array<{ feedId: string }>).map((s) => s.feedId).sort()).toEqual([
      'bis-press',
      'reuters-trade',
    ]);
    expect(h.smtp.received[0]!.mail.text).toContain('Sources (2)');
  });

  it('a second source after delivery: alert.updated to the webhook listing both, no second email, once per source', async () => {
    const secret = newSecret();
    const hook = await receiver(secret);
    const webhook = { type: 'webhook' as const, url: hook.url, secret };
    const email = { type: 'email' as const, to: ['compliance@example.com'] };
    const sub = subscriptionOf('updates', [webhook, email]);
    const h = await harness([sub]);
    const a = alertOf({ storyId: 'story-grows', feedId: 'bis-press' });
    await h.route(a);
    await until(() => hook.accepted().length === 1, 'the first webhook');
    await h.smtp.waitFor(1);
    await h.settle();

    const b = alertOf({ storyId: 'story-grows', feedId: 'reuters-trade' });
    await h.route(b);
    await until(() => hook.accepted().length === 2, 'the update');
    await h.route(b); // the same source routed again announces nothing new
    await h.settle();
    expect(hook.accepted()).toHaveLength(2);
    expect(h.smtp.received).toHaveLength(1);
    const [created, updated] = hook.accepted();
    expect(created!.payload!.type).toBe('alert.created');
    expect(updated!.payload!.type).toBe('alert.updated');
    expect(updated!.payload!.data['id']).toBe(a.id);
    expect((updated!.payload!.data['sources'] as unknown[]).length).toBe(2);
    expect(updated!.id).toBe(updateDeliveryIdFor(a.storyId, sub.id, channelKey(webhook), 2));
    expect(updated!.id).not.toBe(created!.id);
  });

  it('a digest subscription collects its window into one email and one alert.digest webhook', async () => {
    const secret = newSecret();
    const hook = await receiver(secret);
    const webhook = { type: 'webhook' as const, url: hook.url, secret };
    const email = { type: 'email' as const, to: ['weekly@team.example'] };
    const digestSub = subscriptionOf('digest-team', [webhook, email], { mode: 'digest', digest: { everyMinutes: 60 } });
    const dailySub = subscriptionOf('daily-team', [{ type: 'email', to: ['daily@team.example'] }], {
      mode: 'digest',
      digest: { dailyAt: '07:30', timeZone: 'Europe/Berlin' },
      filter: { topics: ['sanctions'] },
    });
    const h = await harness([digestSub, dailySub]);
    const schedulers = await h.deliveries.getJobSchedulers(0, -1);
    expect(
      schedulers
        .map((s) => [s.key, s.every ? Number(s.every) : undefined, s.pattern ?? undefined, s.tz ?? undefined])
        .sort(),
    ).toEqual([
      ['digest-daily-team', undefined, '0 30 7 * * *', 'Europe/Berlin'],
      ['digest-digest-team', 3_600_000, undefined, undefined],
    ]);

    await h.route(alertOf({ storyId: 'story-d1', severity: 'notice' }));
    await h.route(alertOf({ storyId: 'story-d2', severity: 'critical' }));
    await h.settle();
    expect(hook.hits).toHaveLength(0);
    expect(h.smtp.received).toHaveLength(0);

    // Trigger the tick as the scheduler would, for a window ending now.
    const windowEnd = Date.now();
    await h.deliveries.add('digest', { v: 1, subscriptionId: digestSub.id, windowEnd }, { jobId: 'tick-1' });
    await until(() => hook.accepted().length === 1, 'the digest webhook');
    const [mail] = await h.smtp.waitFor(1);
    await h.settle();
    const digest = hook.accepted()[0]!;
    expect(digest.id).toBe(digestDeliveryIdFor(digestSub.id, channelKey(webhook), windowEnd));
    expect(digest.payload!.type).toBe('alert.digest');
    expect(digest.payload!.data).toMatchObject({ subscriptionId: 'digest-team', total: 2 });
    expect((digest.payload!.data['stories'] as Array<{ storyId: string }>).map((s) => s.storyId)).toEqual([
      'story-d2', // most severe first
      'story-d1',
    ]);
    expect(mail!.envelope.to).toEqual(['weekly@team.example']);
    expect(mail!.mail.subject).toMatch(/^\[regwatch\] Digest: 2 stories, highest CRITICAL/);

    // The same window again sends nothing; the next window has only what arrived since.
    await h.notifier.runDigest(digestSub.id, new Date(windowEnd));
    await h.route(alertOf({ storyId: 'story-d3' }));
    await h.settle();
    const next = await h.notifier.runDigest(digestSub.id, new Date(windowEnd + 60_000));
    expect(next).toMatchObject({ stories: 1, queued: 2 });
    await until(() => hook.accepted().length === 2, 'the second digest');
    await h.settle();
    expect((hook.accepted()[1]!.payload!.data['stories'] as unknown[]).length).toBe(1);
    expect(h.smtp.received).toHaveLength(2);
  });

  it('a receiver that hangs for 9 s does not delay deliveries to a fast receiver', async () => {
    const secret = newSecret();
    const slow = await receiver(secret);
    const fast = await receiver(secret);
    slow.reply(...Array.from({ length: 6 }, () => ({ status: 200, afterMs: 9_000 })));
    const slowSub = subscriptionOf('slow', [{ type: 'webhook', url: slow.url, secret }], {
      filter: { feeds: ['slow-feed'] },
    });
    const fastSub = subscriptionOf('fast', [{ type: 'webhook', url: fast.url, secret }], {
      filter: { feeds: ['fast-feed'] },
    });
    // Three worker slots; at most two of them for any one endpoint.
    const h = await harness([slowSub, fastSub], {
      concurrency: { deliveries: 3 },
      endpointLimits: { concurrency: 2 },
    });
    for (let i = 0; i < 6; i++) await h.route(alertOf({ storyId: `story-slow-${i}`, feedId: 'slow-feed' }));
    await until(() => slow.hits.length >= 2, 'the slow receiver to be busy');
    for (let i = 0; i < 3; i++) await h.route(alertOf({ storyId: `story-fast-${i}`, feedId: 'fast-feed' }));
    // Without per-endpoint limits all three worker slots would wait 9 s on the slow receiver.
    await until(() => fast.accepted().length === 3, 'the fast deliveries', 8_000);
    // All of them went out while the slow receiver was still holding its first requests.
    expect(slow.answered).toBe(0);
    expect(slow.hits.length).toBeLessThanOrEqual(2);
    // Let the in-flight slow requests fail now rather than wait for them.
    await slow.close();
  });
});
