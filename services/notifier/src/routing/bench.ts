import { performance } from 'node:perf_hooks';
import { makeAlert, makeSubscriptions, makeWorld, seededRng } from './population.js';
import { buildRoutingIndex } from './routing-index.js';

export interface RoutingBenchResult {
  subscriptions: number;
  alerts: number;
  buildMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Mean subscriptions matched per alert and mean examined (candidates), to show the pruning. */
  meanMatches: number;
  meanCandidates: number;
}

/**
 * Builds a random but realistic population (see `makeSubscriptions`) and times `match` per alert
 * after a warm-up, so JIT compilation is not counted. Seeded: the same options give the same population.
 */
export function benchRouting(opts: { subscriptions: number; alerts?: number; seed?: number }): RoutingBenchResult {
  const rng = seededRng(opts.seed ?? 42);
  const world = makeWorld(rng);
  const subs = makeSubscriptions(opts.subscriptions, world, rng);
  const alertCount = opts.alerts ?? 2000;
  const alerts = Array.from({ length: alertCount }, (_, i) => makeAlert(i, world, rng));

  const t0 = performance.now();
  const index = buildRoutingIndex(subs);
  const buildMs = performance.now() - t0;

  for (let k = 0; k < 3; k++) for (const a of alerts.slice(0, 500)) index.matchSubscriptions(a);

  const times: number[] = [];
  let matches = 0;
  let candidates = 0;
  for (const a of alerts) {
    const s = performance.now();
    // Routing decides who gets the alert; the reasons are built per delivery (explainMatch).
    matches += index.matchSubscriptions(a).length;
    times.push(performance.now() - s);
    candidates += index.countCandidates(a);
  }
  times.sort((a, b) => a - b);
  const pct = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    subscriptions: subs.length,
    alerts: alertCount,
    buildMs: round(buildMs),
    p50Ms: round(pct(0.5)),
    p99Ms: round(pct(0.99)),
    maxMs: round(times[times.length - 1]!),
    meanMatches: round(matches / alertCount),
    meanCandidates: round(candidates / alertCount),
  };
}
