import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Alert, PermanentError, RateLimitedError, RetryableError } from '@regwatch/contracts';
import { createAddressPolicy } from '@regwatch/outbound';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { getAttemptInfo } from './attempt-info.js';
import { buildWebhookEvent, sendWebhook } from './webhook.js';
import { WebhookAlertEventSchema } from './webhook-payload.js';

const policy = createAddressPolicy(['127.0.0.0/8']);

function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Which of the receiver's secrets verified it (null: none). */
  verified: unknown | null;
  verifyError?: string;
}

type Reply = number | 'hang' | ((res: ServerResponse) => void);

/** A real webhook consumer on 127.0.0.1 that verifies with `standardwebhooks`, answering from a script. */
async function startReceiver(secret: string) {
  const received: Received[] = [];
  const script: Reply[] = [];
  const verifier = new Webhook(secret);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const rec: Received = { path: req.url ?? '', headers: req.headers, body, verified: null };
      try {
        rec.verified = verifier.verify(body, {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        });
      } catch (err) {
        rec.verifyError = (err as Error).message;
      }
      received.push(rec);
      const reply = script.shift() ?? (rec.verified ? 200 : 401);
      if (reply === 'hang') return; // never answer
      if (typeof reply === 'function') reply(res);
      else res.writeHead(reply).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    url: `${base}/hooks/tok-3f9a1c`,
    received,
    reply: (...r: Reply[]) => script.push(...r),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function receiver(secret: string) {
  const r = await startReceiver(secret);
  closers.push(r.close);
  return r;
}

function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'alert-1',
    storyId: 'story-1',
    itemId: 'item-1',
    feedId: 'bis-press',
    title: 'Commerce adds 12 firms to the Entity List',
    url: 'https://www.bis.gov/press/1',
    summary: 'The Bureau of Industry and Security added Acme Robotics to the Entity List.',
    published: '2025-03-01T10:00:00Z',
    score: 0.92,
    severity: 'high',
    topics: ['export_controls'],
    jurisdictions: ['US', 'CN'],
    entities: ['BIS', 'Acme Robotics'],
    evidence: [
      {
        field: 'title',
        start: 30,
        end: 41,
        text: 'Entity List',
        rule: 'entity-list',
        kind: 'topic',
        target: 'export_controls',
        weight: 0.8,
      },
    ],
    rulesVersion: 'r1',
    sources: [
      {
        feedId: 'bis-press',
        itemId: 'item-1',
        url: 'https://www.bis.gov/press/1',
        title: 'Commerce adds',
        published: '2025-03-01T10:00:00Z',
      },
    ],
    createdAt: '2025-03-01T10:01:00Z',
    ...over,
  };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject');
}

describe('sendWebhook against a real receiver', () => {
  it('delivers a signed event the standardwebhooks verifier accepts', async () => {
    const secret = newSecret();
    const r = await receiver(secret);
    const event = buildWebhookEvent([alert()], 'dlv-story-1-sub-a-0', {
      why: ['topic:export_controls'],
      severity: 'critical',
    });
    const before = Math.floor(Date.now() / 1000);
    const res = await sendWebhook({ url: r.url, secrets: [secret], deliveryId: 'dlv-story-1-sub-a-0', event, policy });
    expect(res.status).toBe(200);
    expect(res.latencyMs).toBeGreaterThanOrEqual(0);
    expect(r.received).toHaveLength(1);
    const got = r.received[0]!;
    expect(got.verifyError).toBeUndefined();
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['webhook-id']).toBe('dlv-story-1-sub-a-0');
    const ts = Number(got.headers['webhook-timestamp']);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(String(got.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const payload = WebhookAlertEventSchema.parse(got.verified);
    expect(payload.type).toBe('alert.created');
    expect(payload.data).toMatchObject({ id: 'alert-1', severity: 'critical', why: ['topic:export_controls'] });
    expect(payload.data.evidence[0]!.text).toBe('Entity List');
  });

  it('keeps webhook-id across retries: 500, 500, then 200', async () => {
    const secret = newSecret();
    const r = await receiver(secret);
    r.reply(500, 500, 200);
    const deliveryId = 'dlv-story-1-sub-b-0';
    const event = buildWebhookEvent([alert()], deliveryId);
    const send = () => sendWebhook({ url: r.url, secrets: [secret], deliveryId, event, policy });

    for (let k = 0; k < 2; k++) {
      const err = await rejection(send());
      expect(err).toBeInstanceOf(RetryableError);
      expect(err).not.toBeInstanceOf(PermanentError);
      expect((err as RetryableError).code).toBe('WEBHOOK_SERVER_ERROR');
      expect(getAttemptInfo(err)?.code).toBe(500);
    }
    expect((await send()).status).toBe(200);

    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual([deliveryId, deliveryId, deliveryId]);
    expect(r.received.every((x) => x.verifyError === undefined)).toBe(true);
    // Same body every time: a receiver that stored the first can compare.
    expect(new Set(r.received.map((x) => x.body)).size).toBe(1);
  });

  it('maps 410 to WEBHOOK_GONE', async () => {
    const secret = newSecret();
    const r = await receiver(secret);
    r.reply(410);
    const err = await rejection(
      sendWebhook({
        url: r.url,
        secrets: [secret],
        deliveryId: 'd-410',
        event: buildWebhookEvent([alert()], 'd-410'),
        policy,
      }),
    );
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).code).toBe('WEBHOOK_GONE');
  });

  it('maps 4xx, 408, 429 and 503 with Retry-After', async () => {
    const secret = newSecret();
    const r = await receiver(secret);
    const event = buildWebhookEvent([alert()], 'd-4xx');
    const send = () => sendWebhook({ url: r.url, secrets: [secret], deliveryId: 'd-4xx', event, policy });

    r.reply(400);
    const bad = await rejection(send());
    expect(bad).toBeInstanceOf(PermanentError);
    expect((bad as PermanentError).code).toBe('WEBHOOK_REJECTED');

    r.reply(408);
    const timeout = await rejection(send());
    expect(timeout).toBeInstanceOf(RetryableError);
    expect(timeout).not.toBeInstanceOf(RateLimitedError);

    r.reply((res) => res.writeHead(429, { 'retry-after': '120' }).end());
    const limited = await rejection(send());
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(120_000);

    r.reply((res) => res.writeHead(503, { 'retry-after': new Date(Date.now() + 90_000).toUTCString() }).end());
    const unavailable = await rejection(send());
    expect(unavailable).toBeInstanceOf(RateLimitedError);
    expect((unavailable as RateLimitedError).retryAfterMs).toBeGreaterThan(80_000);
    expect((unavailable as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(90_000);

    r.reply(429);
    const noHint = await rejection(send());
    expect(noHint).toBeInstanceOf(RetryableError);
    expect(noHint).not.toBeInstanceOf(RateLimitedError);
  });

  it('times out on a receiver that never answers, as a RetryableError', async () => {
    const secret = newSecret();
    const r = await receiver(secret);
    r.reply('hang');
    const started = Date.now();
    const err = await rejection(
      sendWebhook({
        url: r.url,
        secrets: [secret],
        deliveryId: 'd-hang',
        event: buildWebhookEvent([alert()], 'd-hang'),
        policy,
        timeoutMs: 300,
      }),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).code).toBe('WEBHOOK_TIMEOUT');
    expect(r.received).toHaveLength(1);
  });

  it('signs with every secret during a rotation; a receiver that knows only one verifies', async () => {
    const oldSecret = newSecret();
    const newOne = newSecret();
    const knowsNew = await receiver(newOne);
    const knowsOld = await receiver(oldSecret);
    const event = buildWebhookEvent([alert()], 'd-rotate');
    for (const r of [knowsNew, knowsOld]) {
      const res = await sendWebhook({
        url: r.url,
        secrets: [oldSecret, newOne],
        deliveryId: 'd-rotate',
        event,
        policy,
      });
      expect(res.status).toBe(200);
      expect(r.received[0]!.verifyError).toBeUndefined();
      expect(String(r.received[0]!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    }
    // And a receiver with some other secret refuses it (the check is real).
    const stranger = await receiver(newSecret());
    const err = await rejection(
      sendWebhook({ url: stranger.url, secrets: [oldSecret, newOne], deliveryId: 'd-rotate', event, policy }),
    );
    expect((err as PermanentError).code).toBe('WEBHOOK_REJECTED');
    expect(stranger.received[0]!.verifyError).toBeDefined();
  });

  it('does not follow a redirect', async () => {
    const secret = newSecret();
    const r = await receiver(secret);
    r.reply((res) => res.writeHead(307, { location: `${r.base}/elsewhere` }).end());
    const err = await rejection(
      sendWebhook({
        url: r.url,
        secrets: [secret],
        deliveryId: 'd-redirect',
        event: buildWebhookEvent([alert()], 'd-redirect'),
        policy,
      }),
    );
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).code).toBe('WEBHOOK_REDIRECT');
    expect(getAttemptInfo(err)?.code).toBe(307);
    expect(r.received.map((x) => x.path)).toEqual(['/hooks/tok-3f9a1c']);
  });

  it('keeps secrets, URL paths and bodies out of error messages', async () => {
    const secret = newSecret();
    const r = await receiver(secret);
    r.reply((res) => res.writeHead(422).end(`bad payload, secret was ${secret}`));
    const err = await rejection(
      sendWebhook({
        url: r.url,
        secrets: [secret],
        deliveryId: 'd-msg',
        event: buildWebhookEvent([alert()], 'd-msg'),
        policy,
      }),
    );
    expect((err as PermanentError).code).toBe('WEBHOOK_REJECTED');
    expect(err.message).toContain('422');
    expect(err.message).not.toContain(secret.slice(6, 20));
    expect(err.message).not.toContain('tok-3f9a1c');
    expect(err.message).not.toContain('bad payload');
  });

  it('reports a refused connection as retryable', async () => {
    const r = await startReceiver(newSecret());
    const url = r.url;
    await r.close();
    const err = await rejection(
      sendWebhook({
        url,
        secrets: [newSecret()],
        deliveryId: 'd-closed',
        event: buildWebhookEvent([alert()], 'd-closed'),
        policy,
      }),
    );
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).code).toBe('WEBHOOK_CONNECT');
    expect(err.message).not.toContain('tok-3f9a1c');
  });

  it('refuses an address the SSRF policy does not allow, without sending', async () => {
    const secret = newSecret();
    const r = await receiver(secret);
    const err = await rejection(
      sendWebhook({
        url: r.url,
        secrets: [secret],
        deliveryId: 'd-ssrf',
        event: buildWebhookEvent([alert()], 'd-ssrf'),
        policy: createAddressPolicy(),
      }),
    );
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).code).toBe('WEBHOOK_BLOCKED_ADDRESS');
    expect(r.received).toHaveLength(0);
  });
});
