import { PermanentError, RateLimitedError } from '@regwatch/contracts';

/**
 * Waits between delivery attempts by default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h — about 17 h 35 min
 * from the first failure to the last attempt, so an endpoint down overnight still gets the alert. A
 * delivery job therefore has {@link DELIVERY_ATTEMPTS} attempts: the first plus one after each step.
 * `REGWATCH_RETRY_SCHEDULE` replaces it (see {@link retryScheduleOf}).
 */
export const DELIVERY_BACKOFF_MS: readonly number[] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000];

/** Attempts per delivery job (BullMQ `attempts`): the first one plus one per backoff step. */
export const DELIVERY_ATTEMPTS = DELIVERY_BACKOFF_MS.length + 1;

/** The BullMQ backoff `type` to put on delivery jobs; the worker's `settings.backoffStrategy` is {@link deliveryBackoffStrategy}. */
export const DELIVERY_BACKOFF_TYPE = 'regwatch-delivery';

/** ±20 %: spreads out the retries of many deliveries that failed together (an outage) so they do not return in a wave. */
export const DELIVERY_JITTER = 0.2;

/** A `Retry-After` longer than the longest step is cut to it: a receiver cannot park an alert for days. */
export const MAX_RETRY_AFTER_MS = 36_000_000;

/**
 * The delay before the next attempt.
 * @param attemptsMade attempts made so far, counting the one that just failed (1 after the first failure), as BullMQ passes it.
 * @param rng uniform in [0, 1); inject a fixed one in tests.
 * @param retryAfterMs what the other side asked for (HTTP `Retry-After`); used when longer than the scheduled delay, capped at the longest step.
 * @param schedule the steps in ms; default {@link DELIVERY_BACKOFF_MS}. Past its end the last step repeats.
 */
export function nextDelayMs(
  attemptsMade: number,
  rng: () => number = Math.random,
  retryAfterMs?: number,
  schedule: readonly number[] = DELIVERY_BACKOFF_MS,
): number {
  const step = Math.min(Math.max(1, Math.floor(attemptsMade)), schedule.length) - 1;
  const base = schedule[step]!;
  const delay = Math.round(base * (1 + DELIVERY_JITTER * (2 * rng() - 1)));
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > delay) {
    // Capped at the schedule's longest step (10 h by default), never above MAX_RETRY_AFTER_MS.
    const cap = Math.min(Math.max(...schedule), MAX_RETRY_AFTER_MS);
    return Math.max(delay, Math.min(Math.ceil(retryAfterMs), cap));
  }
  return delay;
}

/** A delivery retry schedule as the notifier uses it: the steps, the attempts they make, the BullMQ backoff strategy. */
export interface RetrySchedule {
  readonly stepsMs: readonly number[];
  /** BullMQ `attempts` of a delivery job: the first attempt plus one per step. */
  readonly attempts: number;
  /** For the delivery worker's `settings.backoffStrategy`. */
  backoffStrategy(attemptsMade: number, type?: string, err?: Error): number;
}

/**
 * The retry schedule from its steps (`REGWATCH_RETRY_SCHEDULE`, parsed by `@regwatch/config`), e.g.
 * a compressed one for the chaos suite. Throws on an empty list or a step that is not a positive
 * number of milliseconds: config validation names the variable, this is the second line.
 */
export function retryScheduleOf(stepsMs: readonly number[] = DELIVERY_BACKOFF_MS): RetrySchedule {
  if (stepsMs.length === 0 || stepsMs.some((ms) => !Number.isFinite(ms) || ms <= 0)) {
    throw new RangeError(`a retry schedule needs 1 or more positive steps in ms, got [${stepsMs.join(', ')}]`);
  }
  const steps = [...stepsMs];
  return {
    stepsMs: steps,
    attempts: steps.length + 1,
    backoffStrategy: (attemptsMade, _type, err) => {
      if (err instanceof PermanentError) return -1;
      const retryAfterMs = err instanceof RateLimitedError ? err.retryAfterMs : undefined;
      return nextDelayMs(attemptsMade, Math.random, retryAfterMs, steps);
    },
  };
}

/**
 * A BullMQ custom backoff strategy (`settings.backoffStrategy` of the delivery worker) built on
 * {@link nextDelayMs} on the default schedule: a `RateLimitedError`'s `retryAfterMs` is honoured, and a `PermanentError`
 * returns -1, which BullMQ takes as "do not retry" (the worker should already have turned it into
 * an `UnrecoverableError`; this is the second line). `type` is accepted for the signature only.
 */
export const deliveryBackoffStrategy: RetrySchedule['backoffStrategy'] =
  retryScheduleOf(DELIVERY_BACKOFF_MS).backoffStrategy;
