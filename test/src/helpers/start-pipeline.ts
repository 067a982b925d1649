import { startClassifier } from '@regwatch/classifier';
import type { Subscription } from '@regwatch/contracts';
import { silentLogger } from '@regwatch/logger';
import { type NotifierDeps, startNotifier } from '@regwatch/notifier';
import { createAddressPolicy } from '@regwatch/outbound';
import { startPoller } from '@regwatch/poller';
import { createRulesHolder } from '@regwatch/rules';
import type { Redis } from 'ioredis';

/** What differs between the end-to-end tests that run the whole pipeline on one feed. */
export interface PipelineOptions {
  connection: Redis;
  /** The test's own key prefix. */
  prefix: string;
  subscriptions: Subscription[];
  /** The one RSS feed the poller reads (hourly, so it is polled once at start). */
  feed: { id: string; url: string };
  email: NotifierDeps['email'];
  unsubscribeSecret: string;
}

/** The three workers of a running pipeline. */
export interface Pipeline {
  /** Stops the poller, then the classifier, then the notifier (upstream first, so nothing is queued after its consumer left). */
  close(): Promise<void>;
}

/**
 * Starts notifier, classifier and poller as their `main`s do, with the built-in taxonomy, a silent
 * logger and an address policy that lets loopback through (the test servers), on `prefix`.
 */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const { connection, prefix, subscriptions } = options;
  const log = silentLogger();
  const policy = createAddressPolicy(['127.0.0.0/8']);
  const rules = createRulesHolder();
  const notifier = await startNotifier({
    connection,
    prefix,
    log,
    policy,
    subscriptions: () => subscriptions,
    email: options.email,
    publicUrl: 'http://127.0.0.1:9/',
    unsubscribeSecret: options.unsubscribeSecret,
  });
  const classifier = startClassifier({
    connection,
    prefix,
    log,
    engine: () => rules.engine,
    subscriptions: () => subscriptions,
  });
  const poller = await startPoller({
    connection,
    prefix,
    log,
    policy,
    feeds: () => [{ ...options.feed, intervalSeconds: 3600, enabled: true }],
  });
  return {
    async close() {
      await poller.close();
      await classifier.close();
      await notifier.close();
    },
  };
}
