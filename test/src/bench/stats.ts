/** Latency figures in milliseconds. */
export interface Latency {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** The q-quantile (0..1) of already sorted values, nearest-rank: the value at or below which q of them lie. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarizeLatency(values: readonly number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 0.5)),
    p95: round(percentile(sorted, 0.95)),
    p99: round(percentile(sorted, 0.99)),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
  };
}

/**
 * Throughput from completion times (ms): completions between the 10th and the 90th percentile
 * arrival divided by the time between them. Leaves out the ramp-up (workers picking up the first
 * jobs) and the tail (the last stragglers), so the figure is the rate at saturation.
 */
export function steadyRate(doneAtMs: readonly number[]): number {
  if (doneAtMs.length < 10) return Number.NaN;
  const sorted = [...doneAtMs].sort((a, b) => a - b);
  const lo = Math.floor(sorted.length * 0.1);
  const hi = Math.ceil(sorted.length * 0.9) - 1;
  const span = sorted[hi]! - sorted[lo]!;
  if (span <= 0) return Number.NaN;
  return Math.round(((hi - lo) / span) * 1000);
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls a condition every 20 ms until it holds (true) or the deadline passes (false). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * Calls `tick(i)` at `perSecond` for `seconds`, on a schedule fixed from the start (a late tick
 * does not push the later ones back), and waits for every call it started.
 */
export async function paced(
  perSecond: number,
  seconds: number,
  tick: (i: number) => Promise<unknown>,
): Promise<{ started: number; lateMs: number }> {
  const total = Math.round(perSecond * seconds);
  const intervalMs = 1000 / perSecond;
  const start = performance.now();
  const inFlight: Array<Promise<unknown>> = [];
  let lateMs = 0;
  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    else lateMs = Math.max(lateMs, -wait);
    inFlight.push(tick(i));
  }
  await Promise.all(inFlight);
  return { started: total, lateMs: round(lateMs) };
}
