import { type AlertJob, ItemJobSchema, QUEUES } from '@regwatch/contracts';
import type { Logger } from '@regwatch/logger';
import { createQueue, duplicateRedis, startWorker } from '@regwatch/queue';
import type { Engine } from '@regwatch/rules';
import { AlertStore } from '@regwatch/store';
import type { Redis } from 'ioredis';
import { classifyItem } from './classify/classify-item.js';
import { StoryIndex } from './classify/story-index.js';

export interface ClassifierDeps {
  connection: Redis;
  prefix: string;
  log: Logger;
  /** The current rules; a getter so a reload takes effect on the next item. */
  engine: () => Engine;
  concurrency?: number;
}

/** Thin BullMQ wiring around `classifyItem`: items queue in, alerts queue out. */
export function startClassifier(deps: ClassifierDeps): { close(): Promise<void> } {
  // The alerts producer gets its own connection, kept apart from `state` so BullMQ's scripts are not
  // copied onto the alert store's multi(). Without auto-pipelining: see the poller's worker.ts.
  const producer = duplicateRedis(deps.connection, {});
  producer.on('error', (err) => deps.log.warn({ err: err.message }, 'redis connection error'));
  const alertsQueue = createQueue(QUEUES.alerts, { connection: producer, prefix: deps.prefix });
  // regwatch's own state (alert store, story stream) on its own connection, as in the notifier:
  // BullMQ defines its scripts on the connection it is given and ioredis copies them onto every
  // multi()/pipeline() made from it.
  const state = duplicateRedis(deps.connection, {});
  state.on('error', (err) => deps.log.warn({ err: err.message }, 'redis connection error'));
  const store = new AlertStore(state, { prefix: deps.prefix });
  const stories = new StoryIndex(state, { prefix: deps.prefix });
  const worker = startWorker(
    {
      queue: QUEUES.items,
      schema: ItemJobSchema,
      concurrency: deps.concurrency ?? 8,
      handle: async ({ item }, { log }) => {
        const outcome = await classifyItem(item, {
          classify: (input) => deps.engine().classify(input),
          assignStory: (id) => stories.assign(id),
          saveAlert: (alert) => store.save(alert),
          publish: async (alert) => {
            await alertsQueue.add('alert', { v: 1, alert } satisfies AlertJob, { jobId: `alert-${alert.id}` });
          },
          now: () => new Date(),
        });
        if (outcome.flagged) log.info({ itemId: item.id, feedId: item.feedId, ...outcome }, 'item flagged');
        return outcome;
      },
    },
    { connection: deps.connection, prefix: deps.prefix, log: deps.log },
  );
  return {
    close: async () => {
      await worker.close();
      await alertsQueue.close();
      await Promise.all([state.quit(), producer.quit()]);
    },
  };
}
