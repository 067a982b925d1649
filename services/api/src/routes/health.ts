import { countJobs, readHeartbeats } from '@regwatch/queue';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authOf } from '../auth/plugin.js';
import type { ApiContext } from '../context.js';
import { ErrorBodySchema } from '../http/errors.js';
import { withTimeout } from '../http/timeout.js';
import type { ZodTypeProvider } from '../http/zod.js';

const ServiceStatusSchema = z.object({
  required: z.boolean(),
  live: z.number().int().describe('instances with a heartbeat younger than 20 s'),
  instances: z.array(z.object({ instance: z.string(), at: z.string(), rssBytes: z.number() })),
});

const ReadinessSchema = z.object({
  status: z.enum(['ready', 'unready']),
  redis: z.string().describe('"ok" or why Redis did not answer'),
  services: z.record(z.string(), ServiceStatusSchema),
  missing: z.array(z.string()).describe('required services without a live heartbeat'),
});

/** Probes (open to all) and the small authenticated basics: queue counts, who am I. */
export function healthRoutes(ctx: ApiContext) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/healthz',
      {
        config: { public: true, rateLimit: false },
        schema: {
          tags: ['health'],
          summary: 'Liveness: the process answers',
          response: { 200: z.object({ status: z.literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        config: { public: true, rateLimit: false },
        schema: {
          tags: ['health'],
          summary: 'Readiness: Redis answers and every required service has a live heartbeat',
          response: { 200: ReadinessSchema, 503: ReadinessSchema },
        },
      },
      async (_req, reply) => {
        const services: z.infer<typeof ReadinessSchema>['services'] = {};
        for (const name of ctx.requiredServices) services[name] = { required: true, live: 0, instances: [] };
        let redis = 'ok';
        try {
          const pong = await withTimeout(ctx.redis.ping(), 1_000);
          if (pong !== 'PONG') throw new Error(`unexpected reply ${pong}`);
          const beats = await withTimeout(readHeartbeats(ctx.redis, ctx.prefix), 2_000);
          for (const beat of beats) {
            const entry = services[beat.service] ?? { required: false, live: 0, instances: [] };
            services[beat.service] = entry;
            entry.live++;
            entry.instances.push({ instance: beat.instance, at: beat.at, rssBytes: beat.rssBytes });
          }
        } catch (err) {
          redis = (err as Error).message;
        }
        const missing = ctx.requiredServices.filter((name) => (services[name]?.live ?? 0) === 0);
        const ready = redis === 'ok' && missing.length === 0;
        return reply.code(ready ? 200 : 503).send({
          status: ready ? 'ready' : 'unready',
          redis,
          services,
          missing: redis === 'ok' ? missing : [...ctx.requiredServices],
        });
      },
    );

    app.get(
      '/v1/queues',
      {
        config: { roles: ['ops'] },
        schema: {
          tags: ['ops'],
          summary: 'Job counts per queue',
          response: {
            200: z.object({ queues: z.record(z.string(), z.record(z.string(), z.number())) }),
            503: ErrorBodySchema,
          },
        },
      },
      async () => ({ queues: await withTimeout(countJobs(Object.values(ctx.queues)), 2_000) }),
    );

    app.get(
      '/v1/me',
      {
        config: { roles: ['ops', 'team'] },
        schema: {
          tags: ['auth'],
          summary: 'The calling token: its id and role',
          response: { 200: z.object({ tokenId: z.string(), role: z.string(), team: z.string().optional() }) },
        },
      },
      async (req) => {
        const auth = authOf(req);
        return { tokenId: auth.tokenId, role: auth.role, ...(auth.team ? { team: auth.team } : {}) };
      },
    );
  };
}
