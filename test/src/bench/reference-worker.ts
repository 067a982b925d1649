/**
 * One stage of the reference chain, run as its own process like a regwatch worker:
 * `node reference-worker.js <queue> <next queue | -> <concurrency>`. The processor does nothing
 * but pass the job on (or, at the last stage, report when it got there), so the chain measures
 * BullMQ and Redis alone. Env: REDIS_URL, BENCH_PREFIX.
 */
import { bullPrefix, createQueue, createRedis } from '@regwatch/queue';
import { Worker } from 'bullmq';

const [queueName, nextName, concurrency] = process.argv.slice(2);
const prefix = process.env.BENCH_PREFIX;
if (!queueName || !nextName || !prefix || !process.send) {
  process.stderr.write(
    'usage: BENCH_PREFIX=… node reference-worker.js <queue> <next|-> <concurrency> (with an IPC channel)\n',
  );
  process.exit(2);
}
const send = process.send.bind(process);
// Bare BullMQ: a plain ioredis connection, without regwatch's write coalescing (coalesce-writes.ts),
// which is part of what the pipeline is measured with, not of the yardstick. `--reference-coalesced`
// runs the chain with it as well, to show what it does for BullMQ alone.
const redis = createRedis(process.env.REDIS_URL, 'worker', {
  coalesceWrites: process.env.BENCH_REFERENCE_COALESCED === '1',
});
// Same queue options (retention of finished jobs) as regwatch's queues, so Redis does the same work per job.
const next = nextName === '-' ? undefined : createQueue(nextName, { connection: redis, prefix });

// [sent at, reached the last stage at] pairs, sent to the bench in batches to keep IPC cheap.
let done: Array<[number, number]> = [];
const flush = () => {
  if (done.length === 0) return;
  send({ done });
  done = [];
};
const timer = setInterval(flush, 50);

const worker = new Worker<{ t0: number }>(
  queueName,
  async (job) => {
    if (next) await next.add('j', job.data);
    else done.push([job.data.t0, Date.now()]);
  },
  { connection: redis, prefix: bullPrefix(prefix), concurrency: Number(concurrency) || 1 },
);
worker.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`));
await worker.waitUntilReady();
send({ ready: true });

process.once('SIGTERM', () => {
  void (async () => {
    await worker.close();
    clearInterval(timer);
    flush();
    await next?.close();
    await redis.quit();
    process.exit(0);
  })();
});
