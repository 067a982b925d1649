import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';

export interface HealthServer {
  url: string;
  /** From now on /readyz answers 503: the instance is draining and takes no new work. */
  markDraining(): void;
  close(): Promise<void>;
}

/**
 * A tiny probe listener for the workers, which have no HTTP server of their own (the api serves
 * the same paths on its own port). `/healthz`: the process and its event loop answer — what a
 * liveness probe should restart on, and nothing more (a Redis outage is not fixed by a restart).
 * `/readyz`: Redis answers PING within a second and the instance is not draining. Node's own
 * http module, so workers gain no dependency; the request path is the only input read.
 */
export async function startHealthServer(options: { host: string; port: number; redis: Redis }): Promise<HealthServer> {
  let isDraining = false;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: Record<string, string>) =>
      res
        .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(body));
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'method not allowed' });
    if (path === '/healthz') return send(200, { status: 'ok' });
    if (path !== '/readyz') return send(404, { error: 'not found' });
    if (isDraining) return send(503, { status: 'draining' });
    pingWithin(options.redis, 1_000).then(
      () => send(200, { status: 'ready', redis: 'ok' }),
      (err: unknown) => send(503, { status: 'unready', redis: (err as Error).message }),
    );
  });
  // Probes open a connection every few seconds; do not let idle ones hold the drain open.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    markDraining: () => {
      isDraining = true;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function pingWithin(redis: Redis, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    redis.ping().then(
      (pong) => {
        clearTimeout(timer);
        if (pong === 'PONG') resolve();
        else reject(new Error(`unexpected reply ${pong}`));
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
