/** One recorded delivery attempt, as the notifier's delivery log keeps it. */
export interface AttemptTimes {
  attempt: number;
  /** ISO time the attempt started. */
  at: string;
  ok: boolean;
}

export interface ScheduleCheck {
  deliveries: number;
  /** Deliveries by the number of attempts they took (`{ 4: 180 }`: 180 took four). */
  attemptCounts: Record<number, number>;
  /** Gap ÷ scheduled step over every retry: the jitter (0.8–1.2) plus queueing. */
  minRatio: number;
  maxRatio: number;
  /** How far the latest retry came after its step's upper bound (1.2 × step), ms; ≤ 0 when none was late. */
  maxLateMs: number;
  /**
   * Deliveries sent again after a success under the same webhook-id (a job that ran twice, e.g.
   * its completion lost with Redis): allowed, a receiver drops them by id; each run is checked.
   */
  resent: number;
  /** The first few of them, to look up in the delivery log. */
  resentIds: string[];
  /** Broken promises, one line each (the first few are enough to read). */
  violations: string[];
}

export interface ScheduleCheckOptions {
  /** The configured steps, ms (`REGWATCH_RETRY_SCHEDULE`). */
  stepsMs: readonly number[];
  jitter?: number;
  /** Allowed delay beyond `(1 + jitter) × step`: BullMQ's delayed-set promotion, the endpoint limiter and a loaded machine. */
  lateSlackMs: number;
  /** Allowed earliness before `(1 - jitter) × step` (clock reads on two sides of a Redis call). */
  earlySlackMs?: number;
  /** When the endpoint went down: no attempt may succeed between this and `recoveredAt`. */
  downAt?: number;
  /** When the endpoint came back: no attempt may fail after it. */
  recoveredAt?: number;
  /** Allowed overlap around `recoveredAt` for an attempt in flight as it flipped. */
  flipSlackMs?: number;
}

/**
 * Checks recorded delivery attempts against the retry schedule: each delivery succeeded exactly
 * once, on its last attempt; the wait before retry n was step n ±jitter (plus slack for
 * queueing, never less); and, with `recoveredAt`, it failed throughout the outage and succeeded on
 * the first attempt after it.
 */
export function checkRetrySchedule(
  attemptsByDelivery: ReadonlyMap<string, readonly AttemptTimes[]>,
  opts: ScheduleCheckOptions,
): ScheduleCheck {
  const jitter = opts.jitter ?? 0.2;
  const early = opts.earlySlackMs ?? 250;
  const flip = opts.flipSlackMs ?? 1_000;
  const out: ScheduleCheck = {
    deliveries: 0,
    attemptCounts: {},
    minRatio: Number.POSITIVE_INFINITY,
    maxRatio: 0,
    maxLateMs: Number.NEGATIVE_INFINITY,
    resent: 0,
    resentIds: [],
    violations: [],
  };
  for (const [id, raw] of attemptsByDelivery) {
    out.deliveries++;
    // By time, not attempt number: two jobs with one delivery id both count from 1.
    const all = [...raw].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    // One run per job: a success ends it; anything after is the same delivery sent again.
    const runs: AttemptTimes[][] = [[]];
    for (const a of all) {
      runs.at(-1)!.push(a);
      if (a.ok) runs.push([]);
    }
    if (runs.at(-1)!.length === 0) runs.pop();
    out.resent += runs.length - 1;
    if (runs.length > 1 && out.resentIds.length < 3) out.resentIds.push(id);
    const last = runs.at(-1) ?? [];
    out.attemptCounts[last.length] = (out.attemptCounts[last.length] ?? 0) + 1;
    if (!last.at(-1)?.ok) out.violations.push(`${id}: the last of ${last.length} attempts failed`);
    for (const attempts of runs) {
      for (let i = 1; i < attempts.length; i++) {
        const step = opts.stepsMs[Math.min(i, opts.stepsMs.length) - 1]!;
        const gap = Date.parse(attempts[i]!.at) - Date.parse(attempts[i - 1]!.at);
        const ratio = gap / step;
        out.minRatio = Math.min(out.minRatio, ratio);
        out.maxRatio = Math.max(out.maxRatio, ratio);
        const late = gap - (1 + jitter) * step;
        out.maxLateMs = Math.max(out.maxLateMs, late);
        if (gap < (1 - jitter) * step - early) {
          out.violations.push(
            `${id}: retry ${i} came ${(gap / 1000).toFixed(1)} s after attempt ${i}, before its step of ${step / 1000} s −${jitter * 100} %`,
          );
        } else if (late > opts.lateSlackMs) {
          out.violations.push(
            `${id}: retry ${i} came ${(gap / 1000).toFixed(1)} s after attempt ${i}, ${(late / 1000).toFixed(1)} s past its step of ${step / 1000} s +${jitter * 100} %`,
          );
        }
      }
    }
    if (opts.recoveredAt !== undefined) {
      const from = (opts.downAt ?? Number.NEGATIVE_INFINITY) + flip;
      for (const a of all) {
        const t = Date.parse(a.at);
        if (!a.ok && t > opts.recoveredAt + flip)
          out.violations.push(`${id}: an attempt failed after the endpoint was back`);
        if (a.ok && t > from && t < opts.recoveredAt - flip)
          out.violations.push(`${id}: an attempt succeeded during the outage`);
      }
    }
  }
  if (out.minRatio === Number.POSITIVE_INFINITY) out.minRatio = 0;
  if (out.maxLateMs === Number.NEGATIVE_INFINITY) out.maxLateMs = 0;
  return out;
}

/** `{ 4: 180, 5: 60 }` as `4 attempts ×180, 5 ×60`. */
export function formatAttemptCounts(counts: Record<number, number>): string {
  return Object.entries(counts)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([n, c], i) => `${n}${i === 0 ? ' attempts' : ''} ×${c}`)
    .join(', ');
}
