import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@regwatch/logger';
import { type Notifier, signUnsubscribeToken, startNotifier } from '@regwatch/notifier';
import { createAddressPolicy } from '@regwatch/outbound';
import { createRedis } from '@regwatch/queue';
import { createLiveCatalog, type LiveCatalog } from '@regwatch/store';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from './testing.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** A webhook consumer that verifies every request with the `standardwebhooks` package. */
async function startReceiver() {
  const verifier = new Webhook(SECRET);
  const received: Array<{ id: string; payload: { type: string; data: { title?: string } } }> = [];
  let rejected = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const headers = {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        };
        const payload = verifier.verify(
          Buffer.concat(chunks).toString('utf8'),
          headers,
        ) as (typeof received)[0]['payload'];
        received.push({ id: headers['webhook-id'], payload });
        res.writeHead(200).end('{}');
      } catch {
        rejected++;
        res.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    rejected: () => rejected,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let api: Awaited<ReturnType<typeof createTestApi>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let catalog: LiveCatalog;
let notifier: Notifier;
const workerRedis = createRedis(process.env.REDIS_URL, 'worker');
const outboxDir = mkdtempSync(join(tmpdir(), 'rw-api-outbox-'));

beforeAll(async () => {
  api = await createTestApi();
  receiver = await startReceiver();
  catalog = createLiveCatalog({ redis: workerRedis, prefix: api.prefix, fileFeeds: [], fileSubscriptions: [] });
  await catalog.ready;
  notifier = await startNotifier({
    connection: workerRedis,
    prefix: api.prefix,
    log: silentLogger(),
    policy: createAddressPolicy(['127.0.0.0/8']),
    subscriptions: () => catalog.subscriptions(),
    email: { outboxDir, from: 'regwatch <alerts@regwatch.test>' },
    publicUrl: 'http://127.0.0.1:8080',
    scheduleSyncMs: 0,
  });
});
afterAll(async () => {
  await notifier?.close();
  await catalog?.close();
  await receiver?.close();
  await api.close();
  await workerRedis.quit();
  if (!process.env.KEEP_OUTBOX) rmSync(outboxDir, { recursive: true, force: true });
});

function outbox(): string[] {
  return readdirSync(outboxDir).filter((f) => f.endsWith('.eml'));
}

describe('test alert and one-click unsubscribe, through a running notifier (real Redis)', () => {
  it('sends a test alert through every real channel of an API-made subscription', async () => {
    const chips = await api.headers('team:chips');
    const created = await api.app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: chips,
      payload: {
        id: 'chips-desk',
        team: 'chips',
        name: 'Chips desk',
        channels: [
          { type: 'webhook', url: receiver.url, secret: SECRET },
          { type: 'email', to: ['desk@example.com', 'boss@example.com'] },
        ],
      },
    });
    expect(created.statusCode).toBe(201);
    // The notifier follows the catalog without a restart.
    await expect.poll(() => catalog.subscriptions().map((s) => s.id), { timeout: 3_000 }).toEqual(['chips-desk']);

    const test = await api.app.inject({ method: 'POST', url: '/v1/subscriptions/chips-desk/test', headers: chips });
    expect(test.statusCode).toBe(202);
    const sent = test.json();
    expect(sent.deliveries.map((d: { channel: string }) => d.channel)).toEqual(['webhook', 'email']);

    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(1);
    expect(receiver.rejected()).toBe(0);
    expect(receiver.received[0]?.id).toBe(sent.deliveries[0].deliveryId);
    expect(receiver.received[0]?.payload.data.title).toMatch(/regwatch test alert/);
    await expect.poll(() => outbox().length, { timeout: 10_000 }).toBe(1);

    // Logged like any delivery, visible to the team.
    await expect
      .poll(
        async () =>
          (await api.app.inject({ url: `/v1/deliveries/${sent.deliveries[0].deliveryId}`, headers: chips })).json()
            .status?.state,
        {
          timeout: 5_000,
        },
      )
      .toBe('delivered');
  });

  it('round-trips the unsubscribe link of a real email: GET confirms, POST removes the addresses', async () => {
    const eml = readFileSync(join(outboxDir, outbox()[0]!), 'utf8');
    // The header is folded (RFC 5322): the URL is on a continuation line.
    const header = /^List-Unsubscribe:\s*<([^>]+)>/im.exec(eml)?.[1];
    expect(header).toBeDefined();
    const link = new URL(header!);
    expect(link.pathname).toBe('/v1/unsubscribe');
    expect(eml).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click/im);

    const confirm = await api.app.inject({ url: `${link.pathname}${link.search}` });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('desk@example.com, boss@example.com');
    expect(confirm.body).toContain('<form method="post"');
    // A GET (a mail scanner following the link) changes nothing.
    expect(
      (await api.app.inject({ url: '/v1/subscriptions/chips-desk', headers: await api.headers('admin') })).json()
        .channels,
    ).toHaveLength(2);

    const post = await api.app.inject({
      method: 'POST',
      url: `${link.pathname}${link.search}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(post.statusCode).toBe(200);
    expect(post.body).toContain('You are unsubscribed');
    const after = (
      await api.app.inject({ url: '/v1/subscriptions/chips-desk', headers: await api.headers('admin') })
    ).json();
    expect(after.channels.map((c: { type: string }) => c.type)).toEqual(['webhook']);
    expect(after.unsubscribed).toEqual(['boss@example.com', 'desk@example.com']);
    expect(after.paused).toBe(false);
    await expect.poll(() => catalog.subscriptions()[0]?.channels.length, { timeout: 3_000 }).toBe(1);
  });

  it('refuses a tampered or foreign token, and pauses a subscription left without channels', async () => {
    const tampered = await api.app.inject({ method: 'POST', url: '/v1/unsubscribe?token=u1.eyJzIjoieCJ9.AAAA' });
    expect(tampered.statusCode).toBe(400);
    const foreign = signUnsubscribeToken(
      { subscriptionId: 'chips-desk', email: 'x@example.com' },
      'another-secret-of-16-bytes',
    );
    expect((await api.app.inject({ url: `/v1/unsubscribe?token=${foreign}` })).statusCode).toBe(400);

    await api.app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: await api.headers('admin'),
      payload: { id: 'mail-only', team: 'chips', channels: [{ type: 'email', to: ['solo@example.com'] }] },
    });
    const secret = await api.app.ctx.unsubscribeSecret();
    const token = signUnsubscribeToken({ subscriptionId: 'mail-only', email: 'solo@example.com' }, secret!);
    const post = await api.app.inject({ method: 'POST', url: `/v1/unsubscribe?token=${token}` });
    expect(post.statusCode).toBe(200);
    expect(post.body).toContain('paused');
    const after = (
      await api.app.inject({ url: '/v1/subscriptions/mail-only', headers: await api.headers('admin') })
    ).json();
    expect(after.paused).toBe(true);
  });
});
