import { QUEUES } from '@regwatch/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authOf } from '../auth/plugin.js';
import type { ApiContext } from '../context.js';
import { readCatalog } from '../domain/catalog-view.js';
import {
  listProblems,
  type ProblemDelivery,
  ProblemDeliverySchema,
  type ReplayDeps,
  type Replayed,
  replayOne,
} from '../domain/deliveries.js';
import { badRequest, ErrorBodySchema, notFound } from '../http/errors.js';
import type { ZodTypeProvider } from '../http/zod.js';
import { DeliveryRecordSchema } from './alerts.js';

const ReplayedSchema = z.object({
  id: z.string(),
  state: z.enum(['dead', 'failed', 'retrying']),
  jobId: z.string().describe('the BullMQ job that runs it'),
});

const ReplayManySchema = z
  .object({
    ids: z.array(z.string().min(1).max(200)).min(1).max(500).optional().describe('these dead letters or jobs'),
    state: z.enum(['dead', 'failed']).optional().describe('or every one in this state (up to `limit`)'),
    subscriptionId: z.string().optional().describe("with `state`: only this subscription's"),
    limit: z.number().int().min(1).max(1_000).default(100),
  })
  .refine((b) => (b.ids === undefined) !== (b.state === undefined), {
    message: 'give either "ids" or "state", not both',
    path: ['ids'],
  });

/** Deliveries: failed, retrying and dead-lettered ones, one delivery's attempts, and replay. */
export function deliveryRoutes(ctx: ApiContext) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    const replayDeps: ReplayDeps = {
      connection: ctx.redis,
      prefix: ctx.prefix,
      deadLetters: ctx.notifier.deadLetters,
      deliveries: ctx.queues[QUEUES.deliveries],
      ...(ctx.deliveryAttempts === undefined ? {} : { attempts: ctx.deliveryAttempts }),
    };

    /** A team token sees its own subscriptions' deliveries only. */
    const teamIds = async (req: FastifyRequest): Promise<Set<string> | undefined> => {
      const auth = authOf(req);
      if (auth.team === undefined) return undefined;
      const catalog = await readCatalog(ctx.catalog, ctx.file);
      return new Set(
        catalog
          .subscriptions()
          .filter((s) => s.item.team === auth.team)
          .map((s) => s.item.id),
      );
    };

    app.get(
      '/v1/deliveries',
      {
        config: { roles: ['ops', 'team'] },
        schema: {
          tags: ['deliveries'],
          summary: 'Dead-lettered, failed or retrying deliveries, newest first',
          querystring: z.object({
            state: z.enum(['dead', 'failed', 'retrying']).default('dead'),
            subscriptionId: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(500).default(50),
            cursor: z.string().max(100).optional().describe('`nextCursor` of the previous page'),
          }),
          response: {
            200: z.object({ deliveries: z.array(ProblemDeliverySchema), nextCursor: z.string().optional() }),
            400: ErrorBodySchema,
            401: ErrorBodySchema,
            403: ErrorBodySchema,
          },
        },
      },
      async (req) => {
        const ids = await teamIds(req);
        const { state, limit, cursor, subscriptionId } = req.query;
        return listProblems(
          { deadLetters: ctx.notifier.deadLetters, deliveries: ctx.queues[QUEUES.deliveries] },
          state,
          {
            limit,
            ...(cursor !== undefined ? { cursor } : {}),
            ...(subscriptionId !== undefined ? { subscriptionId } : {}),
            ...(ids ? { include: (d: ProblemDelivery) => ids.has(d.subscriptionId) } : {}),
          },
        );
      },
    );

    app.get(
      '/v1/deliveries/:id',
      {
        config: { roles: ['ops', 'team'] },
        schema: {
          tags: ['deliveries'],
          summary: 'One delivery: its status and every attempt',
          params: z.object({ id: z.string().min(1).max(200) }),
          response: { 200: DeliveryRecordSchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
        },
      },
      async (req) => {
        const [record] = await ctx.notifier.deliveryLog.records([req.params.id]);
        const ids = await teamIds(req);
        const subscriptionId = record?.status?.subscriptionId ?? record?.attempts[0]?.subscriptionId;
        if (!record || (!record.status && record.attempts.length === 0) || (ids && !ids.has(subscriptionId ?? ''))) {
          throw notFound(`delivery "${req.params.id}"`);
        }
        return record;
      },
    );

    app.post(
      '/v1/deliveries/:id/replay',
      {
        config: { roles: ['ops'] },
        schema: {
          tags: ['deliveries'],
          summary: 'Replay one dead letter, failed job or retrying delivery now',
          params: z.object({ id: z.string().min(1).max(200) }),
          response: { 202: ReplayedSchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
        },
      },
      async (req, reply) => {
        const replayed = await replayOne(replayDeps, req.params.id);
        if (!replayed) throw notFound(`dead letter, failed or retrying delivery "${req.params.id}"`);
        req.log.info({ id: replayed.id, state: replayed.state, tokenId: authOf(req).tokenId }, 'delivery replayed');
        return reply.code(202).send(replayed);
      },
    );

    app.post(
      '/v1/deliveries/replay',
      {
        config: { roles: ['ops'] },
        schema: {
          tags: ['deliveries'],
          summary: 'Replay many: listed ids, or every dead letter / failed job (of one subscription)',
          body: ReplayManySchema,
          response: {
            202: z.object({ replayed: z.array(ReplayedSchema), notFound: z.array(z.string()) }),
            400: ErrorBodySchema,
            401: ErrorBodySchema,
            403: ErrorBodySchema,
          },
        },
      },
      async (req, reply) => {
        const body = req.body;
        let ids = body.ids;
        if (!ids) {
          if (!body.state) throw badRequest('give "ids" or "state"');
          const page = await listProblems(
            { deadLetters: ctx.notifier.deadLetters, deliveries: ctx.queues[QUEUES.deliveries] },
            body.state,
            { limit: body.limit, ...(body.subscriptionId ? { subscriptionId: body.subscriptionId } : {}) },
          );
          ids = page.deliveries.map((d) => d.id);
        }
        const replayed: Replayed[] = [];
        const missing: string[] = [];
        for (const id of ids) {
          const done = await replayOne(replayDeps, id);
          if (done) replayed.push(done);
          else missing.push(id);
        }
        req.log.info(
          { replayed: replayed.length, notFound: missing.length, tokenId: authOf(req).tokenId },
          'deliveries replayed',
        );
        return reply.code(202).send({ replayed, notFound: missing });
      },
    );
  };
}
