import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hasRole } from '../auth/plugin.js';
import type { ApiContext } from '../context.js';
import { authorizeOps, isSameOrigin, opsCookie, refuse, setAuth } from './auth.js';
import { alertVolumeByTopic, readFeedHealth, readRecentAlerts } from './data.js';
import { alertVolumeChart, feedHealthTable, layout, loginPage } from './pages.js';
import { redactBoardResponse } from './redact.js';

/** Days of alert volume on the overview chart. */
const CHART_DAYS = 7;

/**
 * Nothing from other origins (the machine may be offline, and a console is no place for third-party
 * code); inline styles only, for bull-board's React UI.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

/** Routes that need no login: the login form itself and logging out. */
const OPEN_ROUTES = new Set(['/ops/login', '/ops/logout']);

/**
 * The ops console under `/ops`: a login page that sets an HttpOnly, SameSite=Strict cookie; an
 * overview (feed health, alert volume by topic); and bull-board over every queue at `/ops/queues`.
 *
 * The routes are public to the shared bearer hook and authenticated here instead, because only
 * here may a browser's cookie stand in for the bearer header: a cookie accepted on `/v1` would
 * make every API write a cross-site request target. `ops` reads (job data redacted), `admin` may
 * also retry, clean and promote, from pages of this origin only; nobody may add jobs.
 */
export function opsConsole(ctx: ApiContext) {
  return async (ops: FastifyInstance) => {
    ops.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
      route.schema = { ...route.schema, hide: true };
    });
    // The login form posts urlencoded; only this scope parses it.
    ops.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });
    ops.addHook('onRequest', async (req, reply) => {
      reply.header('cache-control', 'no-store');
      reply.header('x-frame-options', 'DENY');
      reply.header('content-security-policy', CSP);
      if (OPEN_ROUTES.has(req.routeOptions.url ?? '')) {
        if (req.method === 'POST' && !isSameOrigin(req)) {
          return reply.code(403).send({ error: 'CROSS_SITE', message: 'log in from a page of this origin' });
        }
        return;
      }
      const result = await authorizeOps(req, ctx.tokens);
      if (!result.ok) return refuse(reply, result);
      setAuth(req, result.record);
    });

    ops.get('/login', async (_req, reply) => reply.type('text/html; charset=utf-8').send(loginPage()));

    ops.post('/login', async (req: FastifyRequest<{ Body: { token?: string } | undefined }>, reply) => {
      const token = typeof req.body?.token === 'string' ? req.body.token.trim() : '';
      const record = token ? await ctx.tokens.verify(token) : undefined;
      if (!record || !hasRole(record.role, ['ops'])) {
        const message = record ? `role "${record.role}" may not use the ops console` : 'unknown or revoked token';
        return reply
          .code(record ? 403 : 401)
          .type('text/html; charset=utf-8')
          .send(loginPage(message));
      }
      req.log.info({ tokenId: record.id, role: record.role }, 'ops console login');
      return reply.header('set-cookie', opsCookie(req, token)).redirect('/ops/', 303);
    });

    ops.post('/logout', async (req, reply) =>
      reply.header('set-cookie', opsCookie(req, undefined)).redirect('/ops/login', 303),
    );

    ops.get('/', async (_req, reply) => {
      const [feeds, recent] = await Promise.all([
        readFeedHealth(ctx.catalog, ctx.file, ctx.feedState, ctx.sourceHealth),
        readRecentAlerts(ctx.alerts, Date.now() - CHART_DAYS * 86_400_000),
      ]);
      const failing = feeds.filter((f) => f.status === 'failing').length;
      const alarmed = feeds.filter((f) => f.incidents.length > 0).length;
      const body = `<h1>Overview</h1>
<p><a href="/ops/queues">Queues</a> — jobs of every queue (polls, items, alerts, deliveries). Dead letters: <code>GET /v1/deliveries?state=dead</code>.</p>
<h2>Alerts per topic, last ${CHART_DAYS} days (UTC)</h2>
${alertVolumeChart(alertVolumeByTopic(recent, CHART_DAYS))}
<h2>Feed health <small>(${feeds.length} feeds, ${failing} failing, ${alarmed} with source alarms)</small></h2>
${feedHealthTable(feeds)}`;
      return reply.type('text/html; charset=utf-8').send(layout('regwatch ops', body, { nav: true }));
    });

    await ops.register(
      async (board) => {
        const serverAdapter = new FastifyAdapter();
        serverAdapter.setBasePath('/ops/queues');
        createBullBoard({
          queues: Object.values(ctx.queues).map((q) => new BullMQAdapter(q)),
          serverAdapter,
          options: { uiConfig: { boardTitle: 'regwatch queues', boardLogo: { path: '' } } },
        });
        // Roles other than admin read a board without job payloads and without write buttons.
        board.addHook('onSend', async (req, reply, payload) => {
          if (typeof payload !== 'string') return payload;
          const type = String(reply.getHeader('content-type') ?? '');
          // The board's page links Google Fonts; the console loads nothing from elsewhere.
          if (type.includes('text/html')) return payload.replace(/<link[^>]*href="https?:\/\/[^"]*"[^>]*>/g, '');
          if (req.auth?.role === 'admin' || !type.includes('application/json')) return payload;
          return redactBoardResponse(req.url.split('?')[0] ?? '', payload);
        });
        await board.register(serverAdapter.registerPlugin());
      },
      { prefix: '/queues' },
    );
  };
}
