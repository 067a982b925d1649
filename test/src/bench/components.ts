import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchRouting } from '@regwatch/notifier';
import { benchPoller } from '@regwatch/poller';
import { benchClassifier, defaultDevSetPath, readLabelledJsonl } from '@regwatch/rules';
import type { Redis } from 'ioredis';
import { REPO_ROOT } from './procs.js';
import { round } from './stats.js';

export interface ClassifierResult {
  /** Items per second of CPU time on one thread: the one-core figure that other load on the machine does not distort. */
  itemsPerCpuSec: number;
  /** Items per second of wall-clock time (lower when the core is shared). */
  itemsPerSec: number;
  compileMs: number;
  /** Where the sample items came from, and how many distinct ones. */
  items: { source: string; count: number };
}

/**
 * The classifier alone on this thread (`benchClassifier`): the labelled dev set when it is present
 * beside the repository (REGWATCH_CLASSIFIER_DEV or ../shared), else the rules package's probe set.
 */
export function measureClassifier(seconds: number): ClassifierResult {
  const dev = defaultDevSetPath();
  const source = existsSync(dev) ? dev : join(REPO_ROOT, 'packages/rules/test-fixtures/probe.jsonl');
  const items = readLabelledJsonl(source);
  const r = benchClassifier({ items, seconds });
  return {
    itemsPerCpuSec: r.itemsPerCpuSecond,
    itemsPerSec: r.itemsPerSecond,
    compileMs: r.compileMs,
    items: { source: existsSync(dev) ? 'shared dev set' : 'rules probe set', count: items.length },
  };
}

export interface RoutingResult {
  subscriptions: number;
  p50Ms: number;
  p99Ms: number;
  buildMs: number;
  meanCandidates: number;
}

/** Per-alert match time against 10,000 subscriptions (`benchRouting`). */
export function measureRouting(subscriptions = 10_000): RoutingResult {
  const r = benchRouting({ subscriptions, alerts: 5000 });
  return {
    subscriptions: r.subscriptions,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    buildMs: r.buildMs,
    meanCandidates: r.meanCandidates,
  };
}

export interface PollerResult {
  notModifiedPollsPerSec: number;
  fullParsePollsPerSec: number;
  redisBytesPerRememberedItem: number;
  /** CPU of the polling process per poll (feed server included, Redis not): steadier than polls/s on a shared machine. */
  notModifiedCpuMsPerPoll: number;
  fullParseCpuMsPerPoll: number;
  feeds: number;
  itemsPerFeed: number;
}

/**
 * The poller alone (`benchPoller`): polls/s on the 304 path and the full-parse path, and Redis
 * bytes per remembered item.
 */
export async function measurePoller(redis: Redis, feeds: number): Promise<PollerResult> {
  const r = await benchPoller({ redis, feeds });
  return {
    notModifiedPollsPerSec: Math.round(r.notModifiedPollsPerSec),
    fullParsePollsPerSec: Math.round(r.fullParsePollsPerSec),
    redisBytesPerRememberedItem: round(r.redisBytesPerRememberedItem),
    notModifiedCpuMsPerPoll: round(r.details.notModifiedCpuMsPerPoll, 3),
    fullParseCpuMsPerPoll: round(r.details.fullParseCpuMsPerPoll, 3),
    feeds: r.details.feeds,
    itemsPerFeed: r.details.itemsPerFeed,
  };
}
