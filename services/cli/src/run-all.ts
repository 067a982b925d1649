import { startApi } from '@regwatch/api';
import { startClassifier } from '@regwatch/classifier';
import type { Config } from '@regwatch/config';
import type { Logger } from '@regwatch/logger';
import { opsChannelsFromEnv, retryScheduleOf, startNotifier, startOpsWorker } from '@regwatch/notifier';
import type { AddressPolicy } from '@regwatch/outbound';
import { incidentThresholdsFromEnv, startPoller } from '@regwatch/poller';
import {
  closeAll,
  createRedis,
  judgeRedisSettings,
  readRedisSettings,
  startHeartbeat,
  waitForRedis,
} from '@regwatch/queue';
import { createRulesHolder } from '@regwatch/rules';
import { createLiveCatalog } from '@regwatch/store';

export interface AllInOne {
  apiUrl: string;
  close(): Promise<void>;
}

/** Runs the four services in one process: what `pnpm start` and `pnpm demo` do. */
export async function runAll(options: {
  config: Config;
  redisUrl: string;
  log: Logger;
  policy: AddressPolicy;
  outboxDir: string;
}): Promise<AllInOne> {
  const { config, log } = options;
  const prefix = config.env.REGWATCH_PREFIX;
  const redis = createRedis(options.redisUrl, 'worker');
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  await waitForRedis(redis, 10_000);
  const verdict = judgeRedisSettings(await readRedisSettings(redis), config.env.REGWATCH_ALLOW_EVICTION);
  for (const warning of verdict.warnings) log.warn(warning);
  if (verdict.refuse) {
    redis.disconnect();
    throw new Error(verdict.refuse);
  }
  const producer = createRedis(options.redisUrl, 'producer');
  producer.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));

  // Config-file entries plus API-made ones (the file wins on an id); API changes arrive without a restart.
  const catalog = createLiveCatalog({
    redis,
    prefix,
    fileFeeds: config.file.feeds,
    fileSubscriptions: config.file.subscriptions,
    onError: (err) => log.warn({ err }, 'catalog reload failed; keeping the last lists'),
  });
  await catalog.ready;
  const rules = createRulesHolder(config.env.REGWATCH_RULES);
  const classifier = startClassifier({
    connection: redis,
    prefix,
    log: log.child({ svc: 'classifier' }),
    engine: () => rules.engine,
    subscriptions: () => catalog.subscriptions(),
    deliveryAttempts: retryScheduleOf(config.env.REGWATCH_RETRY_SCHEDULE).attempts,
  });
  const notifier = await startNotifier({
    connection: redis,
    prefix,
    log: log.child({ svc: 'notifier' }),
    policy: options.policy,
    subscriptions: () => catalog.subscriptions(),
    email: {
      ...(config.env.SMTP_URL ? { smtpUrl: config.env.SMTP_URL } : { outboxDir: options.outboxDir }),
      from: config.env.SMTP_FROM,
    },
    publicUrl: config.env.REGWATCH_PUBLIC_URL,
    ...(config.env.REGWATCH_UNSUBSCRIBE_SECRET ? { unsubscribeSecret: config.env.REGWATCH_UNSUBSCRIBE_SECRET } : {}),
    disableAfterHours: config.env.REGWATCH_DISABLE_AFTER_HOURS,
  });
  const poller = await startPoller({
    connection: redis,
    prefix,
    log: log.child({ svc: 'poller' }),
    policy: options.policy,
    feeds: () => catalog.feeds(),
    seenRetentionDays: config.env.REGWATCH_SEEN_RETENTION_DAYS,
    incidentThresholds: incidentThresholdsFromEnv(config.env),
  });
  // Source alarms to the ops channel (REGWATCH_OPS_EMAIL / REGWATCH_OPS_WEBHOOK_URL).
  const ops = startOpsWorker({
    connection: redis,
    prefix,
    log: log.child({ svc: 'notifier' }),
    policy: options.policy,
    channels: opsChannelsFromEnv(config.env),
    email: {
      ...(config.env.SMTP_URL ? { smtpUrl: config.env.SMTP_URL } : { outboxDir: options.outboxDir }),
      from: config.env.SMTP_FROM,
    },
    retrySchedule: config.env.REGWATCH_RETRY_SCHEDULE,
  });
  const api = await startApi({
    connection: producer,
    prefix,
    log: log.child({ svc: 'api' }),
    host: config.env.API_HOST,
    port: config.env.API_PORT,
    fileFeeds: config.file.feeds,
    fileSubscriptions: config.file.subscriptions,
    requiredServices: config.env.API_REQUIRED_SERVICES,
    deliveryAttempts: retryScheduleOf(config.env.REGWATCH_RETRY_SCHEDULE).attempts,
    rateLimit:
      config.env.API_RATE_LIMIT_PER_MINUTE > 0
        ? { max: config.env.API_RATE_LIMIT_PER_MINUTE, timeWindowMs: 60_000 }
        : false,
    ...(config.env.METRICS_TOKEN ? { metricsToken: config.env.METRICS_TOKEN } : {}),
    ...(config.env.REGWATCH_UNSUBSCRIBE_SECRET ? { unsubscribeSecret: config.env.REGWATCH_UNSUBSCRIBE_SECRET } : {}),
  });
  const heartbeats = ['poller', 'classifier', 'notifier', 'api'].map((svc) => startHeartbeat(redis, prefix, svc));
  return {
    apiUrl: api.url,
    close: () =>
      closeAll([
        ...heartbeats.map((h) => () => h.close()),
        () => api.close(),
        () => poller.close(),
        () => classifier.close(),
        () => notifier.close(),
        () => ops.close(),
        () => catalog.close(),
        () => producer.quit(),
        () => redis.quit(),
      ]),
  };
}
