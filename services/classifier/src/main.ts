import { retryScheduleOf } from '@regwatch/notifier/router';
import { createRulesHolder } from '@regwatch/rules';
import { bootstrap, runService } from '@regwatch/runtime';
import { createLiveCatalog } from '@regwatch/store';
import { startClassifier } from './worker.js';

const runtime = await bootstrap('classifier');
const { env, file } = runtime.config;
const rules = createRulesHolder(env.REGWATCH_RULES);
// The classifier routes each alert it makes: config-file subscriptions plus API-made ones, as the notifier reads them.
const catalog = createLiveCatalog({
  redis: runtime.redis,
  prefix: env.REGWATCH_PREFIX,
  fileFeeds: [],
  fileSubscriptions: file.subscriptions,
  onError: (err) => runtime.log.warn({ err }, 'catalog reload failed; keeping the last subscriptions'),
});
await catalog.ready;
const classifier = startClassifier({
  connection: runtime.redis,
  prefix: env.REGWATCH_PREFIX,
  log: runtime.log,
  engine: () => rules.engine,
  subscriptions: () => catalog.subscriptions(),
  deliveryAttempts: retryScheduleOf(env.REGWATCH_RETRY_SCHEDULE).attempts,
});
// SIGHUP reloads the rules file; a bad file is refused and the running rules stay.
process.on('SIGHUP', () => {
  const result = rules.reload();
  if (result.ok) runtime.log.info({ version: result.version, previous: result.previousVersion }, 'rules reloaded');
  else
    runtime.log.error(
      { err: result.error.message, version: result.version },
      'rules reload refused; keeping the running rules',
    );
});
runService(runtime, 'classifier', [classifier, catalog]);
