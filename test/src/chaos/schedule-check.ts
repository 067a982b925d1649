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
  /** When the endpoint came back: no attempt may fail after it, none succeed before it. */
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
    violations: [],
  };
  for (const [id, raw] of attemptsByDelivery) {
    out.deliveries++;
    const attempts = [...raw].sort((a, b) => a.attempt - b.attempt);
    out.attemptCounts[attempts.length] = (out.attemptCounts[attempts.length] ?? 0) + 1;
    const oks = attempts.filter((a) => a.ok).length;
    if (oks !== 1 || !attempts.at(-1)?.ok) {
      out.violations.push(
        `${id}: ${oks} successful attempts of ${attempts.length}; the last ${attempts.at(-1)?.ok ? 'ok' : 'failed'}`,
      );
    }
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
    if (opts.recoveredAt !== undefined) {
      for (const a of attempts) {
        const t = Date.parse(a.at);
        if (!a.ok && t > opts.recoveredAt + flip)
          out.violations.push(`${id}: attempt ${a.attempt} failed after the endpoint was back`);
        if (a.ok && t < opts.recoveredAt - flip)
          out.violations.push(`${id}: attempt ${a.attempt} succeeded during the outage`);
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
