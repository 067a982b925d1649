import { ItemJobSchema, itemsOfJob, QUEUES, type Subscription } from '@regwatch/contracts';
import type { Logger } from '@regwatch/logger';
import { createAlertRouter, type RouteOutcome } from '@regwatch/notifier/router';
import { createQueue, createShapeGate, duplicateRedis, JOB_SHAPES, startWorker } from '@regwatch/queue';
import type { Engine } from '@regwatch/rules';
import { AlertStore } from '@regwatch/store';
import type { Redis } from 'ioredis';
import { classifyItems } from './classify/classify-item.js';
import { StoryIndex } from './classify/story-index.js';

export interface ClassifierDeps {
  connection: Redis;
  prefix: string;
  log: Logger;
  /** The current rules; a getter so a reload takes effect on the next item. */
  engine: () => Engine;
  concurrency?: number;
  /** The current subscriptions (config file and api), to route each alert to; a getter so changes apply to the next alert. */
  subscriptions: () => readonly Subscription[];
  /** BullMQ attempts of a delivery job: the configured retry schedule's (`REGWATCH_RETRY_SCHEDULE`). */
  deliveryAttempts?: number;
}

/**
 * Thin BullMQ wiring around `classifyItems`: items queue in (a poll's new items per job), delivery
 * jobs out. A flagged item's alert is routed in the same job (the notifier's router, imported as a
 * library): one queue hop and one copy of the 4 KB alert per item fewer than queueing it for the
 * notifier to route. A retry after a crash redoes the routing, which skips deliveries already queued.
 */
export function startClassifier(deps: ClassifierDeps): { close(): Promise<void> } {
  // The deliveries producer gets its own connection, kept apart from `state` so BullMQ's scripts are not
  // copied onto the alert store's multi(). Without auto-pipelining: see the poller's worker.ts.
  const producer = duplicateRedis(deps.connection, {});
  producer.on('error', (err) => deps.log.warn({ err: err.message }, 'redis connection error'));
  const deliveries = createQueue(QUEUES.deliveries, { connection: producer, prefix: deps.prefix });
  // regwatch's own state (alert store, story stream, routing marks) on its own connection, as in the
  // notifier: BullMQ defines its scripts on the connection it is given and ioredis copies them onto
  // every multi()/pipeline() made from it.
  const state = duplicateRedis(deps.connection, {});
  state.on('error', (err) => deps.log.warn({ err: err.message }, 'redis connection error'));
  const store = new AlertStore(state, { prefix: deps.prefix });
  const stories = new StoryIndex(state, { prefix: deps.prefix });
  // deliver-batch jobs only once every live notifier reads them (see createShapeGate).
  const deliveryBatches = createShapeGate(state, deps.prefix, 'notifier', JOB_SHAPES.deliveryBatches, {
    onChange: (open) =>
      deps.log.info({ deliveryBatches: open }, `deliver-batch jobs: batching turned ${open ? 'on' : 'off'}`),
  });
  const router = createAlertRouter({
    batchDeliveries: deliveryBatches,
    state,
    prefix: deps.prefix,
    deliveries,
    subscriptions: deps.subscriptions,
    ...(deps.deliveryAttempts !== undefined ? { attempts: deps.deliveryAttempts } : {}),
  });
  const worker = startWorker(
    {
      queue: QUEUES.items,
      schema: ItemJobSchema,
      // 16: the job now does what two stages of 8 did (classify in the classifier, route in the
      // notifier's alerts worker); at 8, the longer job made the classifier the pipeline's bottleneck.
      concurrency: deps.concurrency ?? 16,
      handle: async (job, meta) => {
        const items = itemsOfJob(job);
        let routed: RouteOutcome | undefined;
        const engine = deps.engine();
        const outcomes = await classifyItems(items, {
          classify: (input) => engine.classify(input),
          assignStory: (id) => stories.assign(id),
          saveAlerts: (alerts) => store.saveMany(alerts),
          publish: async (alerts) => {
            routed = await router.routeMany(alerts);
          },
          now: () => new Date(),
        });
        let flagged = 0;
        for (const o of outcomes) if (o.flagged) flagged++;
        // The line's list (and the job's child logger) only when info is logged: at `warn` (the
        // bench's level, a quiet deployment's) they were built for every job and thrown away.
        if (flagged > 0 && deps.log.isLevelEnabled('info')) {
          const list = outcomes.flatMap((o, i) =>
            o.flagged ? [{ itemId: items[i]!.id, alertId: o.alertId, storyId: o.storyId }] : [],
          );
          meta.log.info({ feedId: items[0]!.feedId, flagged: list, ...routed }, 'items flagged');
        }
        return { items: items.length, flagged, ...(routed ? { routed } : {}) };
      },
    },
    { connection: deps.connection, prefix: deps.prefix, log: deps.log },
  );
  return {
    close: async () => {
      await worker.close();
      deliveryBatches.close();
      await deliveries.close();
      await Promise.all([state.quit(), producer.quit()]);
    },
  };
}
