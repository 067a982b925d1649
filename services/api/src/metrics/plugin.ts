import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hasRole } from '../auth/plugin.js';
import type { ApiContext } from '../context.js';
import { ErrorBodySchema, forbidden, unauthorized } from '../http/errors.js';
import { withTimeout } from '../http/timeout.js';
import { collectMetrics } from './collect.js';

function isMetricsToken(req: FastifyRequest, expected: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const given = Buffer.from(match?.[1] ?? '');
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * `GET /metrics` in the Prometheus text format. Needs an `ops` (or admin) token, or — when
 * `METRICS_TOKEN` is set — that token, so a scraper need not hold an API role.
 */
export function metricsRoutes(ctx: ApiContext, metricsToken?: string) {
  return async (app: FastifyInstance) => {
    app.get(
      '/metrics',
      {
        // With a scrape token the shared hook cannot judge the request (it is no API token): this route does.
        config: metricsToken ? { public: true } : { roles: ['ops'] },
        ...(metricsToken
          ? {
              onRequest: async (req: FastifyRequest) => {
                if (isMetricsToken(req, metricsToken)) return;
                const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
                const record = match?.[1] ? await ctx.tokens.verify(match[1]) : undefined;
                if (!record) throw unauthorized('send METRICS_TOKEN or an ops token: Authorization: Bearer <token>');
                if (!hasRole(record.role, ['ops'])) throw forbidden(`role "${record.role}" may not GET /metrics`);
              },
            }
          : {}),
        schema: {
          tags: ['ops'],
          summary: 'Prometheus metrics: queues, feeds, alerts, deliveries, services (read from Redis at scrape time)',
          description: metricsToken
            ? 'Also accepts `Authorization: Bearer <METRICS_TOKEN>`.'
            : 'Set METRICS_TOKEN to let a scraper in without an API role.',
          response: { 401: ErrorBodySchema, 403: ErrorBodySchema, 503: ErrorBodySchema },
        },
      },
      async (_req, reply) => {
        const { contentType, body } = await withTimeout(collectMetrics(ctx), 10_000);
        return reply.type(contentType).send(body);
      },
    );
  };
}
