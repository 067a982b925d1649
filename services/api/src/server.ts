import rateLimit from '@fastify/rate-limit';
import { bullPrefix } from '@regwatch/queue';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { authPlugin } from './auth/plugin.js';
import { type ApiContext, type ApiDeps, createContext } from './context.js';
import { installErrorHandler } from './http/errors.js';
import { installZodCompilers } from './http/zod.js';
import { metricsRoutes } from './metrics/plugin.js';
import { registerDocsUi, registerOpenApi } from './openapi.js';
import { opsConsole } from './ops/plugin.js';
import { alertRoutes } from './routes/alerts.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { feedRoutes } from './routes/feeds.js';
import { healthRoutes } from './routes/health.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { unsubscribeRoutes } from './routes/unsubscribe.js';

export type { ApiDeps } from './context.js';

/**
 * Builds the HTTP API (not listening yet), so tests can use `inject` or a real port.
 *
 * Order matters: OpenAPI first (it collects every route registered after it), then auth (its
 * hook covers every later route: 401 without a token, 403 for a role the route does not admit),
 * then the per-token rate limit, then the routes. More plugins — the ops console, /metrics — go
 * in the marked place as one `app.register(...)` each; they get auth, the rate limit, the error
 * format and an OpenAPI entry for free, and declare their roles with `config.roles` or `admitRoles`.
 */
export function buildServer(deps: ApiDeps): FastifyInstance & { ctx: ApiContext; registeredRoutes: string[] } {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Probes hit /healthz and /readyz every few seconds; per-request lines would drown the log.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
  });
  const ctx = createContext(deps);
  // Every route as `METHOD /path/{param}`, as the OpenAPI document names them (tests compare both).
  const registeredRoutes: string[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      registeredRoutes.push(`${method} ${route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    }
  });
  installErrorHandler(app);
  installZodCompilers(app);

  registerOpenApi(app);
  app.register(authPlugin, { tokens: ctx.tokens });
  if (deps.rateLimit !== false) {
    const limit = deps.rateLimit ?? { max: 600, timeWindowMs: 60_000 };
    app.register(rateLimit, {
      max: limit.max,
      timeWindow: limit.timeWindowMs,
      // Counters in Redis, so the limit holds across api replicas; hash-tagged like every key.
      redis: deps.connection,
      nameSpace: `${bullPrefix(deps.prefix)}:ratelimit:`,
      keyGenerator: (req) => (req.auth ? `t:${req.auth.tokenHash}` : `ip:${req.ip}`),
      // Redis away: let requests through; the handlers answer 503 on their own.
      skipOnError: true,
    });
  }

  app.register(healthRoutes(ctx));
  app.register(feedRoutes(ctx));
  app.register(subscriptionRoutes(ctx));
  app.register(alertRoutes(ctx));
  app.register(deliveryRoutes(ctx));
  app.register(unsubscribeRoutes(ctx));
  // Further plugins here, one line each, e.g. app.register(opsConsole(ctx), { prefix: '/ops' }).
  app.register(opsConsole(ctx), { prefix: '/ops' });
  app.register(metricsRoutes(ctx, deps.metricsToken));

  registerDocsUi(app);
  app.addHook('onClose', async () => {
    await Promise.all(Object.values(ctx.queues).map((q) => q.close()));
  });
  return Object.assign(app, { ctx, registeredRoutes });
}

/** Starts the API on host:port; returns the server and the address it listens on. */
export async function startApi(
  deps: ApiDeps & { host: string; port: number },
): Promise<{ app: FastifyInstance; url: string; close(): Promise<void> }> {
  const app = buildServer(deps);
  const url = await app.listen({ host: deps.host, port: deps.port });
  return { app, url, close: () => app.close() };
}
