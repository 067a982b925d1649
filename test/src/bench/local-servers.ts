import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClassifyInput } from '@regwatch/contracts';
import { Webhook } from 'standardwebhooks';

export interface BenchFeedServer {
  /** The loopback addresses it listens on. */
  hosts: string[];
  /** New items a request takes at most. */
  perPoll: number;
  /** The URL of feed number `i`: feeds are spread over the hosts round-robin. */
  feedUrl(feedId: string, i: number): string;
  /** Stories waiting to be served; each feed request takes up to `perPoll` of them as new items. */
  load(stories: readonly ClassifyInput[]): void;
  /** New items served so far. */
  readonly served: number;
  /** Loaded stories not served yet. */
  readonly pending: number;
  readonly requests: number;
  close(): Promise<void>;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Feeds that always have news: every request to `/f/<feedId>.xml` serves up to `perPoll` stories
 * not served before, plus the feed's previous items up to `window` (which the poller has seen and
 * must skip, as with a real feed). With nothing loaded it serves the previous items only, so the
 * polls a poller makes on its own at start-up add no items.
 *
 * It listens on `hosts` loopback addresses (127.0.0.1, 127.0.0.2, …): the poller allows two
 * requests at once per host name, and real feeds are spread over many publishers.
 */
export async function startFeedServer(opts: {
  perPoll: number;
  window: number;
  hosts: number;
}): Promise<BenchFeedServer> {
  const pending: ClassifyInput[] = [];
  const recent = new Map<string, string[]>();
  const counters = { served: 0, requests: 0 };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    counters.requests++;
    const m = /^\/f\/([a-z0-9_-]+)\.xml$/.exec((req.url ?? '/').split('?')[0]!);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const feedId = m[1]!;
    const items = recent.get(feedId) ?? [];
    const now = new Date().toUTCString();
    for (const story of pending.splice(0, opts.perPoll)) {
      const n = ++counters.served;
      items.unshift(
        `<item><title>${xml(story.title)}</title><link>http://${req.headers.host}/s/${feedId}/${n}</link><guid isPermaLink="false">bench-${n}</guid><pubDate>${now}</pubDate><description>${xml(story.summary ?? '')}</description></item>`,
      );
    }
    items.length = Math.min(items.length, opts.window);
    recent.set(feedId, items);
    const body = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>bench ${feedId}</title><link>http://${req.headers.host}/</link>${items.join('')}</channel></rss>`;
    res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' }).end(body);
  };
  const servers: Server[] = [];
  const bases: string[] = [];
  for (let k = 1; k <= opts.hosts; k++) {
    const server = createServer(handler);
    const host = `127.0.0.${k}`;
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    servers.push(server);
    bases.push(`http://${host}:${(server.address() as AddressInfo).port}`);
  }
  return {
    hosts: bases,
    perPoll: opts.perPoll,
    feedUrl: (feedId, i) => `${bases[i % bases.length]}/f/${feedId}.xml`,
    load: (stories) => {
      pending.push(...stories);
    },
    get served() {
      return counters.served;
    },
    get pending() {
      return pending.length;
    },
    get requests() {
      return counters.requests;
    },
    close: () => closeServers(servers),
  };
}

export interface SinkDelivery {
  webhookId: string;
  alertId: string;
  /** Date.now() once the signature verified. */
  at: number;
}

export interface WebhookSink {
  /** One URL per endpoint (a port each on 127.0.0.1). */
  urls: string[];
  secret: string;
  /** Verified deliveries since the last reset, in arrival order; a repeated webhook-id counts once. */
  readonly received: SinkDelivery[];
  /** Verified requests whose webhook-id had arrived before (retries). */
  readonly duplicates: number;
  readonly rejected: number;
  /** TCP connections accepted so far (a sender that keeps connections alive opens few). */
  readonly connections: number;
  reset(): void;
  close(): Promise<void>;
}

/**
 * Customers' webhook endpoints: verifies every request with `standardwebhooks` (as a receiver
 * must) and records when each verified delivery arrived. It listens on `endpoints` ports, since
 * a notifier may limit requests per endpoint and real traffic goes to many customers.
 */
export async function startWebhookSink(opts: { endpoints: number }): Promise<WebhookSink> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const verifier = new Webhook(secret);
  let received: SinkDelivery[] = [];
  let seen = new Set<string>();
  let duplicates = 0;
  let rejected = 0;
  let connections = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = {
        'webhook-id': String(req.headers['webhook-id']),
        'webhook-timestamp': String(req.headers['webhook-timestamp']),
        'webhook-signature': String(req.headers['webhook-signature']),
      };
      try {
        const payload = verifier.verify(Buffer.concat(chunks).toString('utf8'), headers) as { data: { id: string } };
        const at = Date.now();
        if (seen.has(headers['webhook-id'])) duplicates++;
        else {
          seen.add(headers['webhook-id']);
          received.push({ webhookId: headers['webhook-id'], alertId: payload.data.id, at });
        }
        res.writeHead(204).end();
      } catch {
        rejected++;
        res.writeHead(401).end();
      }
    });
  };
  const servers: Server[] = [];
  const urls: string[] = [];
  for (let k = 0; k < opts.endpoints; k++) {
    const server = createServer(handler);
    server.keepAliveTimeout = 30_000;
    server.on('connection', () => {
      connections++;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
  }
  return {
    urls,
    secret,
    get received() {
      return received;
    },
    get duplicates() {
      return duplicates;
    },
    get rejected() {
      return rejected;
    },
    get connections() {
      return connections;
    },
    reset() {
      received = [];
      seen = new Set();
      duplicates = 0;
      rejected = 0;
    },
    close: () => closeServers(servers),
  };
}

function closeServers(servers: readonly Server[]): Promise<void> {
  return Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  ).then(() => {});
}
