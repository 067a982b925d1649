import {
  AlertSchema,
  AlertSourceSchema,
  DeliveryAttemptSchema,
  IdentifierQuerySchema,
  JurisdictionSchema,
  parseIdentifierQuery,
  SeveritySchema,
  type Subscription,
  TopicSchema,
} from '@regwatch/contracts';
import { buildRoutingIndex } from '@regwatch/notifier';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authOf } from '../auth/plugin.js';
import type { ApiContext } from '../context.js';
import { decodeCursor, queryAlerts } from '../domain/alert-query.js';
import { readCatalog } from '../domain/catalog-view.js';
import { badRequest, ErrorBodySchema, notFound } from '../http/errors.js';
import type { ZodTypeProvider } from '../http/zod.js';

/** `a,b` or repeated `?x=a&x=b`, as a list. */
function list<T extends z.ZodType>(item: T) {
  return z
    .preprocess(
      (v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(','))),
      z.array(item).max(50).optional(),
    )
    .describe('one value, a comma-separated list, or the parameter repeated; any value matches');
}

const IsoTime = z.iso.datetime({ offset: true }).describe('ISO 8601 date-time');

export const AlertQuerySchema = z.object({
  topic: list(TopicSchema),
  jurisdiction: list(JurisdictionSchema),
  entity: list(z.string().min(1).max(100)),
  severity: list(SeveritySchema),
  minSeverity: SeveritySchema.optional(),
  feed: list(z.string().min(1).max(64)),
  identifier: list(IdentifierQuerySchema).describe(
    'trade-control identifiers (3A090, 8542.31, 15 CFR 744, 2025-12345, 90 FR 12345): one value, a comma-separated list, or the parameter repeated; an alert naming any of them or anything below one matches (3A090 matches 3A090.a)',
  ),
  from: IsoTime.optional().describe('created at or after (inclusive)'),
  to: IsoTime.optional().describe('created before (exclusive)'),
  q: z.string().min(1).max(200).optional().describe('words that must all appear in the title, summary or entities'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(400).optional().describe('`nextCursor` of the previous page'),
});

export const DeliveryRecordSchema = z.object({
  deliveryId: z.string(),
  status: z
    .object({
      deliveryId: z.string(),
      state: z.enum(['delivered', 'retrying', 'dead']),
      kind: z.string().optional(),
      subscriptionId: z.string().optional(),
      channel: z.enum(['webhook', 'email']).optional(),
      attempts: z.number(),
      lastAt: z.string(),
      code: z.number().optional(),
      error: z.string().optional(),
      sources: z.number().optional(),
    })
    .optional(),
  attempts: z.array(DeliveryAttemptSchema),
});

/** Alerts: a filtered, paginated history and one alert with its story's sources and deliveries. */
export function alertRoutes(ctx: ApiContext) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    const read = { roles: ['ops', 'team'] } as const;

    /** A team sees the alerts one of its subscriptions matches (paused ones included). */
    const teamScope = async (req: FastifyRequest) => {
      const auth = authOf(req);
      if (auth.team === undefined) return undefined;
      const catalog = await readCatalog(ctx.catalog, ctx.file);
      const subscriptions: Subscription[] = catalog
        .subscriptions()
        .map((s) => s.item)
        .filter((s) => s.team === auth.team);
      const index = buildRoutingIndex(subscriptions);
      return {
        ids: new Set(subscriptions.map((s) => s.id)),
        visible: (alert: z.infer<typeof AlertSchema>) => index.match(alert, { includePaused: true }).length > 0,
      };
    };

    app.get(
      '/v1/alerts',
      {
        config: read,
        schema: {
          tags: ['alerts'],
          summary: 'Alert history, newest first, filtered, with cursor pagination',
          description:
            'Filters combine with AND; the values of one filter with OR. A request reads at most 5,000 alerts of history: a very selective filter may return a short page with a `nextCursor` — keep following it until it is absent.',
          querystring: AlertQuerySchema,
          response: {
            200: z.object({
              alerts: z.array(AlertSchema),
              nextCursor: z.string().optional(),
              scanned: z.number().int().describe('alerts read to fill this page'),
            }),
            400: ErrorBodySchema,
            401: ErrorBodySchema,
            403: ErrorBodySchema,
          },
        },
      },
      async (req) => {
        const q = req.query;
        const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
        if (q.cursor !== undefined && !cursor)
          throw badRequest('invalid cursor', ['cursor: not a cursor this API returned']);
        const scope = await teamScope(req);
        return queryAlerts(
          ctx.alerts,
          {
            ...(q.topic ? { topics: q.topic } : {}),
            ...(q.jurisdiction ? { jurisdictions: q.jurisdiction } : {}),
            ...(q.entity ? { entities: q.entity } : {}),
            ...(q.severity ? { severities: q.severity } : {}),
            ...(q.minSeverity ? { minSeverity: q.minSeverity } : {}),
            ...(q.feed ? { feedIds: q.feed } : {}),
            ...(q.identifier
              ? {
                  identifiers: q.identifier.flatMap((s) => {
                    const id = parseIdentifierQuery(s);
                    return 'error' in id ? [] : [id];
                  }),
                }
              : {}),
            ...(q.from ? { from: Date.parse(q.from) } : {}),
            ...(q.to ? { to: Date.parse(q.to) } : {}),
            ...(q.q ? { text: q.q } : {}),
            ...(scope ? { visible: scope.visible } : {}),
          },
          { limit: q.limit, ...(cursor ? { cursor } : {}) },
        );
      },
    );

    app.get(
      '/v1/alerts/:id',
      {
        config: read,
        schema: {
          tags: ['alerts'],
          summary: 'One alert with its evidence, every source of its story, and its deliveries',
          params: z.object({ id: z.string().min(1).max(160) }),
          response: {
            200: z.object({
              alert: AlertSchema,
              story: z.object({
                storyId: z.string(),
                alertIds: z.array(z.string()),
                sources: z.array(AlertSourceSchema).describe('every outlet that carried the story'),
              }),
              deliveries: z.array(DeliveryRecordSchema),
            }),
            401: ErrorBodySchema,
            403: ErrorBodySchema,
            404: ErrorBodySchema,
          },
        },
      },
      async (req) => {
        const alert = await ctx.alerts.get(req.params.id);
        const scope = await teamScope(req);
        if (!alert || (scope && !scope.visible(alert))) throw notFound(`alert "${req.params.id}"`);
        const log = ctx.notifier.deliveryLog;
        const [story, byAlert, byStory] = await Promise.all([
          ctx.alerts.story(alert.storyId),
          log.deliveriesForAlert(alert.id),
          log.deliveriesForStory(alert.storyId),
        ]);
        const deliveries = await log.records([...new Set([...byAlert, ...byStory])]);
        const sources = new Map<string, z.infer<typeof AlertSourceSchema>>();
        for (const a of story.length > 0 ? story : [alert]) {
          for (const s of a.sources) sources.set(`${s.feedId}\n${s.itemId}`, s);
        }
        return {
          alert,
          story: {
            storyId: alert.storyId,
            alertIds: story.map((a) => a.id),
            sources: [...sources.values()],
          },
          deliveries: deliveries.filter(
            (d) => !scope || (d.status?.subscriptionId !== undefined && scope.ids.has(d.status.subscriptionId)),
          ),
        };
      },
    );
  };
}
