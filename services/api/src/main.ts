import { createRedis } from '@regwatch/queue';
import { bootstrap, runService } from '@regwatch/runtime';
import { startApi } from './server.js';

const runtime = await bootstrap('api');
const producer = createRedis(runtime.redisTarget, 'producer');
producer.on('error', (err) => runtime.log.warn({ err: err.message }, 'redis connection error'));
const api = await startApi({
  connection: producer,
  prefix: runtime.config.env.REGWATCH_PREFIX,
  log: runtime.log,
  host: runtime.config.env.API_HOST,
  port: runtime.config.env.API_PORT,
});
runtime.log.info({ url: api.url }, 'api listening');
runService(runtime, 'api', [api, { close: async () => void (await producer.quit()) }]);
