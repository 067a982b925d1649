import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createQueue } from '@regwatch/queue';
import type { Redis } from 'ioredis';
import { clearFinished } from './history.js';
import { infoNumber } from './memory.js';
import { anyExit, type Child, cpuPerUnit, cpuSnapshot, spawnNode, stopChildren } from './procs.js';
import { countCommands } from './profile.js';
import { type Latency, paced, round, steadyRate, summarizeLatency, waitFor } from './stats.js';

export interface ReferenceResult {
  /** Chains completed per second at saturation (A → B → C, one job each). */
  jobsPerSec: number;
  saturationJobs: number;
  /** Latency from adding the A job to the C job running, at `pacedRate` chains per second. */
  latency: Latency;
  pacedRate: number;
  concurrency: { a: number; b: number; c: number };
  /** CPU ms per chain at saturation in each stage's process, Redis and the bench (the producer). */
  cpuMsPerJob: Record<string, number>;
  /** With `monitor`: commands naming the chain's keys, per chain, sent by clients and run inside scripts. */
  ownRedisCallsPerJob?: { sent: Record<string, number>; inScripts: number };
  /** False when not every job came through before the deadline. */
  complete: boolean;
}

export interface ReferenceOptions {
  redis: Redis;
  redisUrl: string;
  prefix: string;
  logDir: string;
  saturationJobs: number;
  /** Chains run through first and not measured. */
  warmupJobs?: number;
  pacedRate: number;
  pacedSeconds: number;
  /** Count the chain's Redis commands through MONITOR (slows it down; for `--profile`). */
  monitor?: boolean;
  /**
   * Give the chain's connections regwatch's write coalescing (`--reference-coalesced`): not the
   * yardstick, which is bare BullMQ, but a view of what coalescing does for BullMQ alone.
   */
  coalesced?: boolean;
}

/**
 * What BullMQ itself achieves here: three queues chained by no-op processors, each stage its
 * own process like regwatch's workers, with the concurrency regwatch gives the stages it mirrors
 * (classifier 8 → notifier alerts 8 → notifier deliveries 32). Same Redis, same run as the pipeline.
 * Kept as it was when the classifier began routing alerts itself (no `alerts` hop since): the
 * yardstick does not move with the pipeline's shape.
 */
export async function runReference(opts: ReferenceOptions): Promise<ReferenceResult> {
  const concurrency = { a: 8, b: 8, c: 32 };
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'reference-worker.js');
  const env = {
    ...process.env,
    REDIS_URL: opts.redisUrl,
    BENCH_PREFIX: opts.prefix,
    BENCH_REFERENCE_COALESCED: opts.coalesced ? '1' : '0',
  };
  const stages: Array<[string, string, number]> = [
    ['ref-a', 'ref-b', concurrency.a],
    ['ref-b', 'ref-c', concurrency.b],
    ['ref-c', '-', concurrency.c],
  ];
  let done: Array<[number, number]> = [];
  let ready = 0;
  const children: Child[] = stages.map(([queue, next, n]) => {
    const child = spawnNode(`reference-${queue}`, script, {
      args: [queue, next, String(n)],
      env,
      logDir: opts.logDir,
      ipc: true,
    });
    child.process.on('message', (m: { ready?: boolean; done?: Array<[number, number]> }) => {
      if (m.ready) ready++;
      if (m.done) done.push(...m.done);
    });
    return child;
  });
  const exits = anyExit(children);
  const head = createQueue('ref-a', { connection: opts.redis, prefix: opts.prefix });
  try {
    await Promise.race([waitFor(() => ready === children.length, 30_000), exits.promise]);
    if (ready < children.length) throw new Error('reference workers did not start within 30 s');

    // Warm-up, not measured, as the pipeline gets one (see runPipeline), so both are compared in
    // steady state (code compiled, connections open), not while warming up; then the warm-up's
    // finished jobs are removed on both sides (clearFinished).
    const warmup = opts.warmupJobs ?? 0;
    if (warmup > 0) {
      await head.addBulk(Array.from({ length: warmup }, () => ({ name: 'j', data: { t0: Date.now() } })));
      await Promise.race([waitFor(() => done.length >= warmup, 60_000), exits.promise]);
      done = [];
      const queues = stages.map(([queue]) => createQueue(queue, { connection: opts.redis, prefix: opts.prefix }));
      await clearFinished(queues);
      await Promise.all(queues.map((q) => q.close()));
    }

    // Saturation: the whole backlog at once, measured at the end of the chain.
    const n = opts.saturationJobs;
    const pids = {
      ...Object.fromEntries(children.map((c, i) => [stages[i]![0], c.process.pid ?? -1])),
      redis: await infoNumber(opts.redis, 'server', 'process_id'),
    };
    const cpu0 = cpuSnapshot(pids);
    const monitor = opts.monitor ? await countCommands(opts.redis, opts.prefix) : undefined;
    for (let i = 0; i < n; i += 500) {
      const t0 = Date.now();
      await head.addBulk(Array.from({ length: Math.min(500, n - i) }, () => ({ name: 'j', data: { t0 } })));
    }
    const saturated = await Promise.race([waitFor(() => done.length >= n, 60_000), exits.promise]);
    const jobsPerSec = steadyRate(done.map(([, at]) => at));
    const cpuMsPerJob = cpuPerUnit(cpu0, cpuSnapshot(pids), done.length);
    const own = await monitor?.stop();
    const perJob = (x: number) => round(x / Math.max(1, done.length), 2);
    const ownRedisCallsPerJob = own && {
      sent: Object.fromEntries(Object.entries(own.sent).map(([k, v]) => [k, perJob(v)])),
      inScripts: perJob(own.inScripts),
    };

    // Latency at a paced load, as for the pipeline.
    done = [];
    const pacedJobs = Math.round(opts.pacedRate * opts.pacedSeconds);
    await paced(opts.pacedRate, opts.pacedSeconds, () => head.add('j', { t0: Date.now() }));
    const pacedComplete = await Promise.race([waitFor(() => done.length >= pacedJobs, 30_000), exits.promise]);
    return {
      jobsPerSec,
      saturationJobs: n,
      latency: summarizeLatency(done.map(([t0, at]) => at - t0)),
      pacedRate: round(opts.pacedRate),
      concurrency,
      cpuMsPerJob,
      ...(ownRedisCallsPerJob ? { ownRedisCallsPerJob } : {}),
      complete: saturated && pacedComplete,
    };
  } finally {
    exits.cancel();
    await head.close();
    await stopChildren(children);
  }
}
