import { retryScheduleOf } from '@regwatch/notifier';
import { createRedis, waitForRedis } from '@regwatch/queue';
import { bootstrap, runService } from '@regwatch/runtime';
import { startApi } from './server.js';

const runtime = await bootstrap('api');
const { env, file } = runtime.config;
const producer = createRedis(runtime.redisTarget, 'producer');
producer.on('error', (err) => runtime.log.warn({ err: err.message }, 'redis connection error'));
await waitForRedis(producer, 10_000);
const api = await startApi({
  connection: producer,
  prefix: env.REGWATCH_PREFIX,
  log: runtime.log,
  host: env.API_HOST,
  port: env.API_PORT,
  fileFeeds: file.feeds,
  fileSubscriptions: file.subscriptions,
  requiredServices: env.API_REQUIRED_SERVICES,
  deliveryAttempts: retryScheduleOf(env.REGWATCH_RETRY_SCHEDULE).attempts,
  rateLimit: env.API_RATE_LIMIT_PER_MINUTE > 0 ? { max: env.API_RATE_LIMIT_PER_MINUTE, timeWindowMs: 60_000 } : false,
  ...(env.METRICS_TOKEN ? { metricsToken: env.METRICS_TOKEN } : {}),
  ...(env.REGWATCH_UNSUBSCRIBE_SECRET ? { unsubscribeSecret: env.REGWATCH_UNSUBSCRIBE_SECRET } : {}),
});
runtime.log.info({ url: api.url, docs: `${api.url}/docs` }, 'api listening');
runService(runtime, 'api', [api, { close: async () => void (await producer.quit()) }]);
