import { resolve } from 'node:path';
import { bootstrap, runService } from '@regwatch/runtime';
import { createLiveCatalog } from '@regwatch/store';
import { opsChannelsFromEnv } from './ops/ops-channel.js';
import { startOpsWorker } from './ops/ops-worker.js';
import { startNotifier } from './worker.js';

const runtime = await bootstrap('notifier');
const { env, file } = runtime.config;
const outboxDir = resolve(env.REGWATCH_OUTBOX_DIR ?? `${env.REGWATCH_DATA_DIR}/outbox`);
// Config-file subscriptions plus API-made ones (the file wins on an id); API changes arrive without a restart.
const catalog = createLiveCatalog({
  redis: runtime.redis,
  prefix: env.REGWATCH_PREFIX,
  fileFeeds: [],
  fileSubscriptions: file.subscriptions,
  onError: (err) => runtime.log.warn({ err }, 'catalog reload failed; keeping the last subscriptions'),
});
await catalog.ready;
const notifier = await startNotifier({
  connection: runtime.redis,
  prefix: env.REGWATCH_PREFIX,
  log: runtime.log,
  policy: runtime.policy,
  subscriptions: () => catalog.subscriptions(),
  email: { ...(env.SMTP_URL ? { smtpUrl: env.SMTP_URL } : { outboxDir }), from: env.SMTP_FROM },
  publicUrl: env.REGWATCH_PUBLIC_URL,
  disableAfterHours: env.REGWATCH_DISABLE_AFTER_HOURS,
  retrySchedule: env.REGWATCH_RETRY_SCHEDULE,
  endpointLimits: {
    concurrency: env.REGWATCH_WEBHOOK_ENDPOINT_CONCURRENCY,
    ratePerSecond: env.REGWATCH_WEBHOOK_ENDPOINT_RATE,
  },
  ...(env.REGWATCH_UNSUBSCRIBE_SECRET ? { unsubscribeSecret: env.REGWATCH_UNSUBSCRIBE_SECRET } : {}),
});
// Source alarms (silent, empty, failing sources) to the ops channel: REGWATCH_OPS_EMAIL / REGWATCH_OPS_WEBHOOK_URL.
const ops = startOpsWorker({
  connection: runtime.redis,
  prefix: env.REGWATCH_PREFIX,
  log: runtime.log,
  policy: runtime.policy,
  channels: opsChannelsFromEnv(env),
  email: { ...(env.SMTP_URL ? { smtpUrl: env.SMTP_URL } : { outboxDir }), from: env.SMTP_FROM },
  retrySchedule: env.REGWATCH_RETRY_SCHEDULE,
});
if (!env.SMTP_URL) runtime.log.info({ outboxDir }, 'SMTP_URL is not set: email is written to the outbox folder');
runService(runtime, 'notifier', [notifier, ops, catalog]);
