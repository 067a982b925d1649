import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FeedServer {
  url: string;
  /** Replaces what a path serves. */
  set(path: string, body: string | Buffer, contentType?: string): void;
  requests: Array<{ path: string; headers: IncomingMessage['headers'] }>;
  close(): Promise<void>;
}

/** A local HTTP server serving feed documents, with ETag support, on a loopback address. */
export async function startFeedServer(host = '127.0.0.1'): Promise<FeedServer> {
  const docs = new Map<string, { body: Buffer; type: string; etag: string }>();
  const requests: FeedServer['requests'] = [];
  let version = 0;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push({ path, headers: req.headers });
    const doc = docs.get(path);
    if (!doc) {
      res.writeHead(404).end('not found');
      return;
    }
    if (req.headers['if-none-match'] === doc.etag) {
      res.writeHead(304, { etag: doc.etag }).end();
      return;
    }
    res.writeHead(200, { 'content-type': doc.type, etag: doc.etag, 'content-length': doc.body.length }).end(doc.body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    set(path, body, contentType = 'application/rss+xml; charset=utf-8') {
      docs.set(path, {
        body: Buffer.isBuffer(body) ? body : Buffer.from(body),
        type: contentType,
        etag: `"v${++version}"`,
      });
    },
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
