/**
 * `pnpm bench [--json] [--no-scale] [--keep-logs] [--no-warmup] [--reference-coalesced]`: measures regwatch against BullMQ's own limit on
 * this machine, against the local Redis (REDIS_URL, default 127.0.0.1:6379) under its own key
 * prefixes, deleted afterwards. Prints figures and marks missed targets; exits 0 unless the run
 * itself broke. `pnpm bench --profile` instead runs the pipeline once at saturation with CPU
 * profiles and a MONITOR count of its Redis commands, to show where the time goes.
 * See docs/benchmarks.md.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createRedis, DEFAULT_REDIS_URL, waitForRedis } from '@regwatch/queue';
import { compileRules, loadRules } from '@regwatch/rules';
import type { Redis } from 'ioredis';
import { deletePrefix } from '../helpers/redis.js';
import { measureClassifier, measurePoller, measureRouting } from './components.js';
import { startFeedServer, startWebhookSink } from './local-servers.js';
import { measureAlertBytes } from './memory.js';
import { type DeliveriesResult, type PipelineResult, runDeliveries, runPipeline } from './pipeline.js';
import { processCpuMs, REPO_ROOT, terminateAll } from './procs.js';
import { summarizeProfiles } from './profile.js';
import { type ReferenceResult, runReference } from './reference.js';
import { type BenchResults, formatHuman, formatProfile, type Machine, summarize } from './report.js';
import { round } from './stats.js';
import { createStorySource } from './stories.js';

const args = new Set(process.argv.slice(2));
const isJson = args.has('--json');
const withScale = !args.has('--no-scale');
const isProfile = args.has('--profile');
/** Also run the reference chain with regwatch's write coalescing, to show what it does for BullMQ alone. */
const referenceCoalesced = args.has('--reference-coalesced');
/** For comparing with runs of trees from before the warm-up existed. */
const noWarmup = args.has('--no-warmup');
let keepLogs = args.has('--keep-logs');
const redisUrl = process.env.REDIS_URL || DEFAULT_REDIS_URL;

/** Sizes: chosen so the default run (scale included) stays under 3 minutes on 2 cores. */
const SIZES = {
  /**
   * Measured at saturation, on both sides: about 3 s of each at this machine's rates. At 3,000
   * chains and 1,500 items, each window was about 1 s, and one GC pause or scheduler hiccup moved a
   * run's rate by a quarter: 1,500 items read 1,125–1,776 items/s over runs of one tree, 4,500 read
   * 1,296–1,490.
   */
  referenceJobs: 9000,
  pacedRate: 200,
  pacedSeconds: 10,
  saturationItems: 4500,
  /**
   * Run through first and not measured, on both sides: the pipeline's classifier took ~4× longer per
   * item for its first few hundred (V8 had not compiled the rules engine yet) and its notifier opened
   * a connection to each webhook endpoint, costs a running service has paid long before. Each side
   * runs until V8's compiler threads are down to about 5 % of the machine (`perf record -a`, by
   * time; docs/benchmarks.md, seventh pass): the reference after ~8,000 chains, the pipeline, with
   * far more code to compile (rss-parser, sax, the rules, node:http, zod), after ~12,000 items.
   * After 3,000 each, they still took 10–15 % (reference) and 12–20 % (pipeline) of the machine in
   * the measured window. Then the warm-up's finished jobs are removed on both sides
   * (`clearFinished`), so neither is measured with more job history than the other.
   */
  warmupItems: 12_000,
  warmupJobs: 8000,
  deliveries: 2000,
  /** The deliveries measurement's own warm-up: its notifier is a fresh process. */
  deliveriesWarmup: 2000,
  baseFeeds: 64,
  baseSubscriptions: 64,
  /** Sink ports: deliveries go to one subscription per endpoint, pipeline subscriptions round-robin. */
  webhookEndpoints: 256,
  scales: [1, 4, 16],
  feedHosts: 16,
  pollerFeeds: 500,
  alertSamples: 2000,
};

const startedAt = Date.now();
const progress = (line: string) =>
  process.stderr.write(`bench +${Math.round((Date.now() - startedAt) / 1000)}s: ${line}\n`);
/** One JSON object per line on stdout with --json; the human table is printed at the end otherwise. */
const emit = (kind: string, value: object) => {
  if (isJson) process.stdout.write(`${JSON.stringify({ kind, ...value })}\n`);
};

async function machine(redis: Redis): Promise<Machine> {
  const info = await redis.info('server');
  const bullmq = JSON.parse(readFileSync(join(REPO_ROOT, 'test/node_modules/bullmq/package.json'), 'utf8')) as {
    version: string;
  };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    redis: /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown',
    bullmq: bullmq.version,
    loadAverage: round(loadavg()[0]!, 2),
    startedAt: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const redis = createRedis(redisUrl, 'worker');
  redis.on('error', () => {});
  try {
    await waitForRedis(redis, 5_000);
  } catch (err) {
    process.stderr.write(`bench: cannot reach Redis at ${redisUrl}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const run = `bench-${randomUUID().slice(0, 8)}`;
  const prefixes: string[] = [];
  const prefix = (name: string) => {
    prefixes.push(`${run}-${name}`);
    return `${run}-${name}`;
  };
  const workDir = mkdtempSync(join(tmpdir(), 'regwatch-bench-'));
  const feedServer = await startFeedServer({ perPoll: 5, window: 15, hosts: SIZES.feedHosts });
  const sink = await startWebhookSink({ endpoints: SIZES.webhookEndpoints });
  let failed = false;

  const cleanUp = async () => {
    terminateAll();
    await Promise.all([feedServer.close(), sink.close()]);
    for (const p of prefixes) await deletePrefix(redis, p).catch(() => {});
    if (!failed && !keepLogs) rmSync(workDir, { recursive: true, force: true });
    else progress(`worker logs kept in ${workDir}`);
  };
  process.once('SIGINT', () => {
    progress('interrupted: stopping workers and deleting the bench keys');
    failed = true;
    void cleanUp().finally(() => process.exit(130));
  });

  try {
    const m = await machine(redis);
    progress(
      `${m.cpus} cores, node ${m.node}, redis ${m.redis}, load ${m.loadAverage}; prefix ${run}; feeds on ${feedServer.hosts.length} loopback hosts`,
    );
    emit('machine', m);
    const engine = compileRules(loadRules());
    const stories = createStorySource(Date.now() % 1_000_000, engine);

    if (isProfile) {
      progress(`reference under MONITOR: ${SIZES.referenceJobs} jobs`);
      const reference = await runReference({
        redis,
        redisUrl,
        prefix: prefix('ref'),
        logDir: workDir,
        saturationJobs: SIZES.referenceJobs,
        warmupJobs: noWarmup ? 0 : SIZES.warmupJobs,
        pacedRate: SIZES.pacedRate,
        pacedSeconds: 1,
        monitor: true,
      });
      const profileDir = join(workDir, 'cpu');
      mkdirSync(profileDir);
      const result = await runPipeline({
        redis,
        redisUrl,
        prefix: prefix('prof'),
        workDir,
        feedServer,
        sink,
        stories,
        scale: 1,
        feeds: SIZES.baseFeeds,
        subscriptions: SIZES.baseSubscriptions,
        saturationItems: SIZES.saturationItems,
        warmupItems: noWarmup ? 0 : SIZES.warmupItems,
        profileDir,
        progress,
      });
      const byPid = new Map(Object.entries(result.pids).map(([name, pid]) => [pid, name]));
      const profiles = summarizeProfiles(profileDir).map((p) => ({
        service: byPid.get(p.pid) ?? `pid ${p.pid}`,
        ...p,
      }));
      const report = { reference, pipeline: result, profiles };
      if (isJson) emit('profile', report);
      else process.stdout.write(`${formatProfile(result, reference, profiles)}\n`);
      keepLogs = true;
      progress(`CPU profiles (open in Chrome DevTools): ${profileDir}`);
      return;
    }

    progress(`reference: BullMQ chain, ${SIZES.referenceJobs} jobs, then ${SIZES.pacedRate}/s`);
    const reference = await runReference({
      redis,
      redisUrl,
      prefix: prefix('ref'),
      logDir: workDir,
      saturationJobs: SIZES.referenceJobs,
      warmupJobs: noWarmup ? 0 : SIZES.warmupJobs,
      pacedRate: SIZES.pacedRate,
      pacedSeconds: SIZES.pacedSeconds,
    });
    emit('reference', reference);
    let coalescedReference: ReferenceResult | undefined;
    if (referenceCoalesced) {
      progress("reference again, with regwatch's write coalescing (not the yardstick)");
      coalescedReference = await runReference({
        redis,
        redisUrl,
        prefix: prefix('refc'),
        logDir: workDir,
        saturationJobs: SIZES.referenceJobs,
        warmupJobs: noWarmup ? 0 : SIZES.warmupJobs,
        pacedRate: SIZES.pacedRate,
        pacedSeconds: SIZES.pacedSeconds,
        coalesced: true,
      });
      emit('reference-coalesced', coalescedReference);
    }

    const pipeline: PipelineResult[] = [];
    let referenceAfter: ReferenceResult | undefined;
    let deliveries: DeliveriesResult | undefined;
    for (const scale of withScale ? SIZES.scales : [1]) {
      const first = pipeline.length === 0;
      const result = await runPipeline({
        redis,
        redisUrl,
        prefix: prefix(`p${scale}`),
        workDir,
        feedServer,
        sink,
        stories,
        scale,
        feeds: SIZES.baseFeeds * scale,
        subscriptions: SIZES.baseSubscriptions * scale,
        saturationItems: SIZES.saturationItems,
        warmupItems: noWarmup ? 0 : SIZES.warmupItems,
        ...(first ? { paced: { rate: SIZES.pacedRate, seconds: SIZES.pacedSeconds } } : {}),
        progress,
      });
      pipeline.push(result);
      emit('pipeline', result);
      await deletePrefix(redis, `${run}-p${scale}`);
      if (first) {
        // The yardstick again, right after: the ratio is taken against the mean of both runs.
        progress(`reference again (saturation only), ${SIZES.referenceJobs} jobs`);
        referenceAfter = await runReference({
          redis,
          redisUrl,
          prefix: prefix('ref2'),
          logDir: workDir,
          saturationJobs: SIZES.referenceJobs,
          warmupJobs: noWarmup ? 0 : SIZES.warmupJobs,
          pacedRate: SIZES.pacedRate,
          pacedSeconds: 0,
        });
        emit('reference-after', referenceAfter);
        deliveries = await runDeliveries({
          redis,
          redisUrl,
          prefix: prefix('deliveries'),
          workDir,
          sink,
          engine,
          stories,
          count: SIZES.deliveries,
          warmup: noWarmup ? 0 : SIZES.deliveriesWarmup,
          progress,
        });
        emit('deliveries', deliveries);
        await deletePrefix(redis, `${run}-deliveries`);
      }
    }
    if (!deliveries) throw new Error('the deliveries measurement did not run');

    // CPU-bound parts last, in this process, with the workers gone.
    progress('classifier alone');
    const classifier = measureClassifier(2);
    emit('classifier', classifier);
    progress('routing at 10,000 subscriptions');
    const routing = measureRouting();
    emit('routing', routing);
    progress('poller alone (benchPoller)');
    const poller = await measurePoller(redis, SIZES.pollerFeeds);
    emit('poller', poller);
    progress(`Redis bytes per retained alert (${SIZES.alertSamples} alerts)`);
    const alerts = await measureAlertBytes(redis, prefix('alerts'), engine, SIZES.alertSamples);
    emit('alerts', alerts);

    const results: BenchResults = {
      machine: m,
      reference,
      ...(referenceAfter ? { referenceAfter } : {}),
      ...(coalescedReference ? { coalescedReference } : {}),
      pipeline,
      deliveries,
      classifier,
      poller,
      routing,
      alerts,
      seconds: Math.round((Date.now() - started) / 1000),
    };
    if (isJson) process.stdout.write(`${JSON.stringify(summarize(results))}\n`);
    else process.stdout.write(`${formatHuman(results)}\n`);
    progress(`done in ${results.seconds} s (bench process CPU ${Math.round(processCpuMs(process.pid) / 1000)} s)`);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    await cleanUp();
    await redis.quit();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: the run broke: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
