import { bootstrap, runService } from '@regwatch/runtime';
import { startPoller } from './worker.js';

const runtime = await bootstrap('poller');
const poller = await startPoller({
  connection: runtime.redis,
  prefix: runtime.config.env.REGWATCH_PREFIX,
  log: runtime.log,
  policy: runtime.policy,
  feeds: () => runtime.config.file.feeds,
});
runService(runtime, 'poller', [poller]);
