import { FeedIdSchema, FeedSourceSchema, feedSourceSchemaWith, SourceIncidentSchema } from '@regwatch/contracts';
import { SourceCadenceSchema } from '@regwatch/store';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiContext } from '../context.js';
import { CatalogSourceSchema, FeedViewSchema, feedView, readCatalog } from '../domain/catalog-view.js';
import { conflict, ErrorBodySchema, notFound } from '../http/errors.js';
import type { ZodTypeProvider } from '../http/zod.js';
import { readSourceAlarms } from '../ops/data.js';

export const FeedHealthSchema = z.object({
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  permanentUrl: z.string().optional(),
  sourceUrl: z.string().optional(),
  lastAttemptAt: z.string().optional(),
  lastSuccessAt: z.string().optional(),
  lastStatus: z.number().optional(),
  lastError: z.string().optional(),
  consecutiveFailures: z.number(),
  itemsSeen: z.number(),
  nextPollAt: z.string().optional(),
  incidents: z
    .array(SourceIncidentSchema)
    .optional()
    .describe('open source alarms: `silent` (quiet far beyond its cadence), `empty` (lists no items), `failing`'),
  cadence: SourceCadenceSchema.optional().describe(
    'the learnt gap between new items (ms), once 5 gaps are known; `silentAfterMs` = max(multiplier × p90, floor)',
  ),
  lastArrivalAt: z.string().optional().describe('when the poller last found a new item'),
});

const Params = z.object({ id: FeedIdSchema });
const FeedWithHealthSchema = feedSourceSchemaWith({
  source: CatalogSourceSchema,
  health: FeedHealthSchema.optional(),
});
/** PUT takes the id from the path; one in the body must agree. */
const FeedPutSchema = feedSourceSchemaWith({ id: FeedIdSchema.optional() });
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema };

/** Feeds: the config file's (read-only here) and API-made ones, with their health. */
export function feedRoutes(ctx: ApiContext) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    const read = { roles: ['ops'] } as const;
    const write = { roles: [] } as const;

    const find = async (id: string) => {
      const catalog = await readCatalog(ctx.catalog, ctx.file);
      return catalog.feeds().find((f) => f.item.id === id);
    };
    /** The poller's state and the source alarms of one feed. */
    const healthOf = async (id: string) => {
      const [state, alarms] = await Promise.all([ctx.feedState.get(id), readSourceAlarms(ctx.sourceHealth, id)]);
      return { ...state, ...alarms };
    };
    const refuseFile = (id: string) => {
      if (ctx.file.feeds().some((f) => f.id === id)) {
        throw conflict(
          `feed "${id}" comes from the config file; change it there (config-file entries are read-only over the API)`,
        );
      }
    };

    app.get(
      '/v1/feeds',
      {
        config: read,
        schema: {
          tags: ['feeds'],
          summary: 'Every feed the poller runs, file and API-made',
          querystring: z.object({
            health: z.enum(['true', 'false']).optional().describe("include each feed's health"),
          }),
          response: { 200: z.object({ feeds: z.array(FeedWithHealthSchema) }), ...errors },
        },
      },
      async (req) => {
        const feeds = (await readCatalog(ctx.catalog, ctx.file)).feeds().map(feedView);
        if (req.query.health !== 'true') return { feeds };
        const health = await Promise.all(feeds.map((f) => healthOf(f.id)));
        return { feeds: feeds.map((f, i) => ({ ...f, health: health[i] })) };
      },
    );

    app.post(
      '/v1/feeds',
      {
        config: write,
        schema: {
          tags: ['feeds'],
          summary: 'Add a feed (the poller schedules it within seconds)',
          body: FeedSourceSchema,
          response: { 201: FeedViewSchema, ...errors, 409: ErrorBodySchema },
        },
      },
      async (req, reply) => {
        refuseFile(req.body.id);
        if (!(await ctx.catalog.createFeed(req.body))) throw conflict(`feed "${req.body.id}" already exists`);
        return reply.code(201).send(feedView({ item: req.body, source: 'api' }));
      },
    );

    app.get(
      '/v1/feeds/:id',
      {
        config: read,
        schema: {
          tags: ['feeds'],
          summary: 'One feed with its health',
          params: Params,
          response: { 200: FeedWithHealthSchema, ...errors, 404: ErrorBodySchema },
        },
      },
      async (req) => {
        const found = await find(req.params.id);
        if (!found) throw notFound(`feed "${req.params.id}"`);
        return { ...feedView(found), health: await healthOf(req.params.id) };
      },
    );

    app.get(
      '/v1/feeds/:id/health',
      {
        config: read,
        schema: {
          tags: ['feeds'],
          summary:
            "A feed's health: last attempt and success, status, consecutive failures, items seen, open source alarms and learnt cadence",
          params: Params,
          response: { 200: FeedHealthSchema, ...errors, 404: ErrorBodySchema },
        },
      },
      async (req) => {
        if (!(await find(req.params.id))) throw notFound(`feed "${req.params.id}"`);
        return healthOf(req.params.id);
      },
    );

    app.put(
      '/v1/feeds/:id',
      {
        config: write,
        schema: {
          tags: ['feeds'],
          summary: 'Create or replace an API-made feed',
          params: Params,
          body: FeedPutSchema,
          response: { 200: FeedViewSchema, 201: FeedViewSchema, ...errors, 409: ErrorBodySchema },
        },
      },
      async (req, reply) => {
        const { id } = req.params;
        if (req.body.id !== undefined && req.body.id !== id) {
          throw conflict(`the body's id "${req.body.id}" is not the path's "${id}"`);
        }
        refuseFile(id);
        const existed = (await ctx.catalog.feed(id)) !== undefined;
        const feed = { ...req.body, id };
        await ctx.catalog.putFeed(feed);
        return reply.code(existed ? 200 : 201).send(feedView({ item: feed, source: 'api' }));
      },
    );

    app.delete(
      '/v1/feeds/:id',
      {
        config: write,
        schema: {
          tags: ['feeds'],
          summary: 'Remove an API-made feed (its schedule stops; its health is forgotten)',
          params: Params,
          response: { 204: z.null(), ...errors, 404: ErrorBodySchema, 409: ErrorBodySchema },
        },
      },
      async (req, reply) => {
        refuseFile(req.params.id);
        if (!(await ctx.catalog.removeFeed(req.params.id))) throw notFound(`feed "${req.params.id}"`);
        await Promise.all([ctx.feedState.remove(req.params.id), ctx.sourceHealth.remove(req.params.id)]);
        return reply.code(204).send(null);
      },
    );
  };
}
