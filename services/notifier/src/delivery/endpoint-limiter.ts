import { performance } from 'node:perf_hooks';

export interface EndpointLimits {
  /** Webhook requests in flight to one endpoint (host:port) at once. Default 4. */
  concurrency: number;
  /** Webhook requests started per second to one endpoint; a burst of one second's worth is allowed. Default 20. */
  ratePerSecond: number;
}

export const DEFAULT_ENDPOINT_LIMITS: EndpointLimits = { concurrency: 4, ratePerSecond: 20 };

/** A slot: give it back when the request is over. */
export interface EndpointLease {
  /**
   * @param requestMs how long the endpoint itself took (the HTTP request's latency), when known;
   *   `null` when no request was made (nothing learned about the endpoint). Without it, the time
   *   the lease was held counts — which includes the caller's own Redis work, so a Redis outage
   *   would read as a slow endpoint: after a 20 s outage every delivery to every endpoint was
   *   deferred for up to a minute (the chaos suite's Redis scenario).
   */
  release(requestMs?: number | null): void;
}

export type AcquireResult = { ok: true; lease: EndpointLease } | { ok: false; retryInMs: number };

interface EndpointState {
  active: number;
  /** Start times of requests in flight, to tell how long the oldest has been waiting. */
  inflight: Set<number>;
  tokens: number;
  refilledAt: number;
  /** Smoothed request duration, ms. */
  ewmaMs: number;
  /** The virtual queue of deferred jobs: when the last one deferred should come back. */
  nextSlotAt: number;
  usedAt: number;
}

const MIN_RETRY_MS = 20;
const MAX_RETRY_MS = 60_000;
const EWMA_WEIGHT = 0.2;
const SWEEP_EVERY = 1_000;
const IDLE_MS = 60_000;

/**
 * Per-endpoint concurrency and rate limits, so one slow receiver never holds every worker slot.
 * A job over the limit is not made to wait inside the worker: the caller gets `retryInMs` and
 * moves the job back to the delayed set, freeing the slot for other endpoints.
 *
 * Deferred jobs are spaced out like a queue: each deferral reserves the next slot the endpoint
 * is expected to free (its smoothed request time — at least as long as the oldest request still
 * in flight — divided by its concurrency, and never closer than its rate allows), so a backlog
 * for a hanging endpoint comes back at the pace the endpoint can take rather than all at once.
 *
 * The state is in-process: limits hold per notifier process, so with R replicas an endpoint sees
 * at most R × concurrency requests at once and R × rate per second. That costs no Redis round trip
 * per delivery; Redis-wide limits would cost two.
 */
export class EndpointLimiter {
  private readonly endpoints = new Map<string, EndpointState>();
  private calls = 0;

  constructor(
    readonly limits: EndpointLimits = DEFAULT_ENDPOINT_LIMITS,
    private readonly now: () => number = () => performance.now(),
    private readonly rng: () => number = Math.random,
  ) {
    if (!Number.isInteger(limits.concurrency) || limits.concurrency < 1) {
      throw new RangeError(`endpoint concurrency must be a positive integer, got ${limits.concurrency}`);
    }
    if (!(limits.ratePerSecond > 0))
      throw new RangeError(`endpoint rate must be positive, got ${limits.ratePerSecond}`);
  }

  /**
   * Takes a slot for `endpoint` (host:port), or says how long to wait before trying again.
   * @param options.reserve when over the limit, reserve the next expected slot (default): right for
   *   a job that leaves and comes back once. A caller that waits in-process and asks again passes
   *   false, or every ask would reserve another slot and push the endpoint's queue out by a
   *   spacing each time (a wave of 136 deliveries to one endpoint was pushed back a minute).
   */
  tryAcquire(endpoint: string, options: { reserve?: boolean } = {}): AcquireResult {
    const now = this.now();
    if (++this.calls % SWEEP_EVERY === 0) this.sweep(now);
    let s = this.endpoints.get(endpoint);
    if (!s) {
      s = {
        active: 0,
        inflight: new Set(),
        tokens: this.burst(),
        refilledAt: now,
        ewmaMs: 0,
        nextSlotAt: now,
        usedAt: now,
      };
      this.endpoints.set(endpoint, s);
    }
    s.usedAt = now;
    const rate = this.limits.ratePerSecond;
    if (Number.isFinite(rate)) {
      s.tokens = Math.min(this.burst(), s.tokens + ((now - s.refilledAt) * rate) / 1000);
      s.refilledAt = now;
    }
    const hasToken = !Number.isFinite(rate) || s.tokens >= 1;
    if (s.active < this.limits.concurrency && hasToken) {
      s.active++;
      if (Number.isFinite(rate)) s.tokens -= 1;
      let started = now;
      while (s.inflight.has(started)) started += 1e-6;
      s.inflight.add(started);
      const state = s;
      let released = false;
      return {
        ok: true,
        lease: {
          release: (requestMs) => {
            if (released) return;
            released = true;
            state.active--;
            state.inflight.delete(started);
            if (requestMs === null) return;
            const took =
              requestMs !== undefined && Number.isFinite(requestMs) ? Math.max(0, requestMs) : this.now() - started;
            state.ewmaMs = state.ewmaMs === 0 ? took : state.ewmaMs + EWMA_WEIGHT * (took - state.ewmaMs);
          },
        },
      };
    }
    // Over the limit: reserve the next expected slot.
    let oldest = now;
    for (const t of s.inflight) if (t < oldest) oldest = t;
    const perRequest = Math.max(s.ewmaMs, now - oldest, MIN_RETRY_MS);
    const spacing = Math.max(perRequest / this.limits.concurrency, Number.isFinite(rate) ? 1000 / rate : 0);
    if (options.reserve === false) {
      // Only an estimate of when a slot or a token frees up; the queue of deferred jobs is left alone.
      const tokenWait = hasToken ? 0 : ((1 - s.tokens) * 1000) / rate;
      const slotWait = s.active < this.limits.concurrency ? 0 : spacing;
      const wait = Math.max(tokenWait, slotWait) * (0.8 + 0.4 * this.rng());
      return { ok: false, retryInMs: Math.round(Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, wait))) };
    }
    // Never reserve past what a deferral can wait: a backlog estimated during a stall would
    // otherwise keep deferring new jobs by the maximum long after the endpoint is free again.
    s.nextSlotAt = Math.min(Math.max(s.nextSlotAt, now) + spacing, now + MAX_RETRY_MS);
    const tokenWait = hasToken ? 0 : ((1 - s.tokens) * 1000) / rate;
    const wait = Math.max(s.nextSlotAt - now, tokenWait);
    // ±20 % so jobs deferred together do not all come back in the same millisecond.
    const jittered = wait * (0.8 + 0.4 * this.rng());
    return { ok: false, retryInMs: Math.round(Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, jittered))) };
  }

  /** Endpoints currently tracked (for tests and metrics). */
  get size(): number {
    return this.endpoints.size;
  }

  private burst(): number {
    return Number.isFinite(this.limits.ratePerSecond) ? Math.max(1, this.limits.ratePerSecond) : 1;
  }

  private sweep(now: number): void {
    for (const [endpoint, s] of this.endpoints) {
      if (s.active === 0 && now - s.usedAt > IDLE_MS) this.endpoints.delete(endpoint);
    }
  }
}

/** `host:port` of a URL, with the scheme's default port made explicit: the unit the limits apply to. */
export function endpointOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '');
    return `${u.hostname.toLowerCase()}:${port}`;
  } catch {
    return undefined;
  }
}
