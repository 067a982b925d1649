import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> & { title?: string; url?: string } };
}

export interface WebhookReceiver {
  url: string;
  /** Verified deliveries, in arrival order. */
  received: ReceivedWebhook[];
  /** Requests whose signature did not verify. */
  rejected: number;
  /** Status codes to answer with before answering 200 (one per request). */
  failNext(...statuses: number[]): void;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/**
 * A real webhook consumer: verifies every request with the `standardwebhooks` package, as a
 * customer's endpoint would, and records what verified.
 */
export async function startWebhookReceiver(secret: string, host = '127.0.0.1'): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret);
  const received: ReceivedWebhook[] = [];
  const queued: number[] = [];
  const state = { rejected: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = queued.shift();
      if (status !== undefined) {
        res.writeHead(status).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const headers = {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        };
        const payload = verifier.verify(body, headers) as ReceivedWebhook['payload'];
        received.push({ id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], payload });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } catch {
        state.rejected++;
        res.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/hook`,
    received,
    get rejected() {
      return state.rejected;
    },
    failNext: (...statuses) => queued.push(...statuses),
    waitFor: (count, timeoutMs = 20_000) =>
      waitUntil(
        () => received.length >= count,
        timeoutMs,
        () => `${received.length}/${count} webhooks`,
      ).then(() => received),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls a condition (cheaply, every 20 ms) until it holds or the deadline passes. */
export async function waitUntil(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
