import { createRulesHolder } from '@regwatch/rules';
import { bootstrap, runService } from '@regwatch/runtime';
import { startClassifier } from './worker.js';

const runtime = await bootstrap('classifier');
const rules = createRulesHolder(runtime.config.env.REGWATCH_RULES);
const classifier = startClassifier({
  connection: runtime.redis,
  prefix: runtime.config.env.REGWATCH_PREFIX,
  log: runtime.log,
  engine: () => rules.engine,
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
runService(runtime, 'classifier', [classifier]);
