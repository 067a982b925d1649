import { QUEUES, type Subscription, SubscriptionIdSchema, SubscriptionSchema } from '@regwatch/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type AuthContext, authOf } from '../auth/plugin.js';
import type { ApiContext } from '../context.js';
import { type Located, readCatalog, SubscriptionViewSchema, subscriptionView } from '../domain/catalog-view.js';
import { sendTestAlert } from '../domain/test-alert.js';
import { ApiError, conflict, ErrorBodySchema, forbidden, notFound } from '../http/errors.js';
import type { ZodTypeProvider } from '../http/zod.js';

const Params = z.object({ id: SubscriptionIdSchema });
/** PUT takes the id from the path; one in the body must agree. */
const SubscriptionPutSchema = SubscriptionSchema.extend({ id: SubscriptionIdSchema.optional() });
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema };

/** Admin and ops see every subscription; a team token only its team's — others are "not found". */
export function canSee(auth: AuthContext, subscription: Pick<Subscription, 'team'>): boolean {
  return auth.team === undefined || auth.team === subscription.team;
}

/** A team token may only create or move subscriptions into its own team. */
function checkTeam(auth: AuthContext, team: string): void {
  if (auth.team !== undefined && auth.team !== team) {
    throw forbidden(`a team:${auth.team} token may only manage subscriptions of team "${auth.team}", not "${team}"`);
  }
}

/** Subscriptions: CRUD, pause/resume, and a test alert through the real channels. */
export function subscriptionRoutes(ctx: ApiContext) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    const read = { roles: ['ops', 'team'] } as const;
    const write = { roles: ['team'] } as const;

    /** The subscription if the caller may see it; 404 otherwise (another team's does not "exist"). */
    const load = async (req: FastifyRequest, id: string) => {
      const catalog = await readCatalog(ctx.catalog, ctx.file);
      const found = catalog.subscriptions().find((s) => s.item.id === id);
      if (!found || !canSee(authOf(req), found.item)) throw notFound(`subscription "${id}"`);
      return { found, catalog };
    };
    const refuseFile = (found: Located<Subscription> | undefined, action: string) => {
      if (found?.source === 'file') {
        throw conflict(
          `subscription "${found.item.id}" comes from the config file and cannot be ${action} over the API; change the file (pause/resume and unsubscribe do work)`,
        );
      }
    };

    app.get(
      '/v1/subscriptions',
      {
        config: read,
        schema: {
          tags: ['subscriptions'],
          summary: 'Subscriptions the caller may see (a team token: its own)',
          querystring: z.object({ team: z.string().optional().describe("only this team's") }),
          response: { 200: z.object({ subscriptions: z.array(SubscriptionViewSchema) }), ...errors },
        },
      },
      async (req) => {
        const auth = authOf(req);
        const catalog = await readCatalog(ctx.catalog, ctx.file);
        const subscriptions = catalog
          .subscriptions()
          .filter((s) => canSee(auth, s.item) && (req.query.team === undefined || s.item.team === req.query.team))
          .map((s) => subscriptionView(s, catalog.snapshot));
        return { subscriptions };
      },
    );

    app.post(
      '/v1/subscriptions',
      {
        config: write,
        schema: {
          tags: ['subscriptions'],
          summary: 'Create a subscription (the notifier routes to it within seconds)',
          body: SubscriptionSchema,
          response: { 201: SubscriptionViewSchema, ...errors, 409: ErrorBodySchema },
        },
      },
      async (req, reply) => {
        const auth = authOf(req);
        checkTeam(auth, req.body.team);
        const catalog = await readCatalog(ctx.catalog, ctx.file);
        const existing = catalog.subscriptions().find((s) => s.item.id === req.body.id);
        if (existing?.source === 'file') refuseFile(existing, 'replaced');
        if (existing || !(await ctx.catalog.createSubscription(req.body))) {
          throw conflict(`subscription "${req.body.id}" already exists`);
        }
        return reply.code(201).send(subscriptionView({ item: req.body, source: 'api' }, catalog.snapshot));
      },
    );

    app.get(
      '/v1/subscriptions/:id',
      {
        config: read,
        schema: {
          tags: ['subscriptions'],
          summary: 'One subscription',
          params: Params,
          response: { 200: SubscriptionViewSchema, ...errors },
        },
      },
      async (req) => {
        const { found, catalog } = await load(req, req.params.id);
        return subscriptionView(found, catalog.snapshot);
      },
    );

    app.put(
      '/v1/subscriptions/:id',
      {
        config: write,
        schema: {
          tags: ['subscriptions'],
          summary: 'Create or replace an API-made subscription (webhook secrets must be sent again)',
          params: Params,
          body: SubscriptionPutSchema,
          response: { 200: SubscriptionViewSchema, 201: SubscriptionViewSchema, ...errors, 409: ErrorBodySchema },
        },
      },
      async (req, reply) => {
        const auth = authOf(req);
        const { id } = req.params;
        if (req.body.id !== undefined && req.body.id !== id) {
          throw conflict(`the body's id "${req.body.id}" is not the path's "${id}"`);
        }
        const catalog = await readCatalog(ctx.catalog, ctx.file);
        const existing = catalog.subscriptions().find((s) => s.item.id === id);
        if (existing && !canSee(auth, existing.item)) throw notFound(`subscription "${id}"`);
        refuseFile(existing, 'replaced');
        checkTeam(auth, req.body.team);
        const subscription: Subscription = { ...req.body, id };
        await ctx.catalog.putSubscription(subscription);
        return reply
          .code(existing ? 200 : 201)
          .send(subscriptionView({ item: subscription, source: 'api' }, catalog.snapshot));
      },
    );

    app.delete(
      '/v1/subscriptions/:id',
      {
        config: write,
        schema: {
          tags: ['subscriptions'],
          summary: 'Remove an API-made subscription',
          params: Params,
          response: { 204: z.null(), ...errors, 409: ErrorBodySchema },
        },
      },
      async (req, reply) => {
        const { found } = await load(req, req.params.id);
        refuseFile(found, 'removed');
        await ctx.catalog.removeSubscription(req.params.id);
        return reply.code(204).send(null);
      },
    );

    for (const action of ['pause', 'resume'] as const) {
      app.post(
        `/v1/subscriptions/:id/${action}`,
        {
          config: write,
          schema: {
            tags: ['subscriptions'],
            summary:
              action === 'pause'
                ? 'Pause: nothing is delivered until resumed (file subscriptions too)'
                : 'Resume a paused subscription',
            params: Params,
            response: { 200: SubscriptionViewSchema, ...errors },
          },
        },
        async (req) => {
          await load(req, req.params.id);
          await ctx.catalog.setPaused(req.params.id, action === 'pause');
          const { found, catalog } = await load(req, req.params.id);
          return subscriptionView(found, catalog.snapshot);
        },
      );
    }

    app.post(
      '/v1/subscriptions/:id/test',
      {
        config: write,
        schema: {
          tags: ['subscriptions'],
          summary: 'Send a test alert through every channel of the subscription',
          description:
            'Queues one delivery per channel exactly as the notifier does for a real alert (signed webhook, rendered email, retries, delivery log). Follow them with GET /v1/deliveries/{deliveryId}.',
          params: Params,
          response: {
            202: z.object({
              alertId: z.string(),
              storyId: z.string(),
              deliveries: z.array(
                z.object({ deliveryId: z.string(), channel: z.enum(['webhook', 'email']), channelKey: z.string() }),
              ),
            }),
            ...errors,
            409: ErrorBodySchema,
          },
        },
      },
      async (req, reply) => {
        const { found } = await load(req, req.params.id);
        if (found.item.paused) {
          throw new ApiError(409, 'SUBSCRIPTION_PAUSED', `subscription "${found.item.id}" is paused; resume it first`);
        }
        const sent = await sendTestAlert(
          {
            alerts: ctx.alerts,
            deliveries: ctx.queues[QUEUES.deliveries],
            ...(ctx.deliveryAttempts === undefined ? {} : { attempts: ctx.deliveryAttempts }),
          },
          found.item,
        );
        return reply.code(202).send(sent);
      },
    );
  };
}
