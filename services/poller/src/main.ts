import { readConfigFile } from '@regwatch/config';
import { bootstrap, runService } from '@regwatch/runtime';
import { createLiveCatalog } from '@regwatch/store';
import { createFeedList } from './feed-list.js';
import { incidentThresholdsFromEnv } from './health/incidents.js';
import { startPoller } from './worker.js';

const runtime = await bootstrap('poller');
const { env, filePath } = runtime.config;
const feedList = createFeedList(runtime.config.file.feeds, filePath ? () => readConfigFile(filePath) : undefined);
// Config-file feeds plus API-made ones (the file wins on an id); API changes arrive without a restart.
const catalog = createLiveCatalog({
  redis: runtime.redis,
  prefix: env.REGWATCH_PREFIX,
  fileFeeds: feedList.feeds,
  fileSubscriptions: [],
  onError: (err) => runtime.log.warn({ err }, 'catalog reload failed; keeping the last feed list'),
});
await catalog.ready;
const poller = await startPoller({
  connection: runtime.redis,
  prefix: env.REGWATCH_PREFIX,
  log: runtime.log,
  policy: runtime.policy,
  feeds: () => catalog.feeds(),
  seenRetentionDays: env.REGWATCH_SEEN_RETENTION_DAYS,
  incidentThresholds: incidentThresholdsFromEnv(env),
});
// SIGHUP re-reads the config file; a bad file is refused and the running feeds stay.
process.on('SIGHUP', () => {
  const result = feedList.reload();
  if (!result.ok) {
    runtime.log.error(
      { err: result.error.message, feeds: result.feeds },
      'config reload refused; keeping the running feeds',
    );
    return;
  }
  runtime.log.info({ feeds: result.feeds, previous: result.previousFeeds }, 'config reloaded');
  poller.sync().catch((err: unknown) => runtime.log.error({ err }, 'feed schedule sync failed'));
});
catalog.onChange(
  () => void poller.sync().catch((err: unknown) => runtime.log.error({ err }, 'feed schedule sync failed')),
);
runService(runtime, 'poller', [poller, catalog]);
