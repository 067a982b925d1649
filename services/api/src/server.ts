import { QUEUES } from '@regwatch/contracts';
import type { Logger } from '@regwatch/logger';
import { countJobs, createQueue } from '@regwatch/queue';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Redis } from 'ioredis';

export interface ApiDeps {
  /** A producer-role connection: fails fast while Redis is away instead of hanging requests. */
  connection: Redis;
  prefix: string;
  log: Logger;
}

/** Builds the HTTP API (not listening yet), so tests can use `inject` or a real port. */
export function buildServer(deps: ApiDeps): FastifyInstance & { queues: Queue[] } {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Probes hit /healthz and /readyz every few seconds; per-request lines would drown the log.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
  });
  const queues = Object.values(QUEUES).map((name) =>
    createQueue(name, { connection: deps.connection, prefix: deps.prefix }),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    try {
      const pong = await withTimeout(deps.connection.ping(), 1_000);
      if (pong !== 'PONG') throw new Error(`unexpected reply ${pong}`);
      return { status: 'ready', redis: 'ok' };
    } catch (err) {
      return reply.code(503).send({ status: 'unready', redis: (err as Error).message });
    }
  });

  app.get('/v1/queues', async (_req, reply) => {
    try {
      return { queues: await withTimeout(countJobs(queues), 2_000) };
    } catch (err) {
      return reply.code(503).send({ error: 'REDIS_UNAVAILABLE', message: (err as Error).message });
    }
  });

  app.addHook('onClose', async () => {
    await Promise.all(queues.map((q) => q.close()));
  });
  return Object.assign(app, { queues });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Starts the API on host:port; returns the server and the address it listens on. */
export async function startApi(
  deps: ApiDeps & { host: string; port: number },
): Promise<{ app: FastifyInstance; url: string; close(): Promise<void> }> {
  const app = buildServer(deps);
  const url = await app.listen({ host: deps.host, port: deps.port });
  return { app, url, close: () => app.close() };
}
