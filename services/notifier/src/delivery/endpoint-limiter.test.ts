import { parseEnv } from '@regwatch/config';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINT_LIMITS, EndpointLimiter, endpointOf } from './endpoint-limiter.js';

function clock(start = 1_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('EndpointLimiter', () => {
  it('has the defaults the environment documents (REGWATCH_WEBHOOK_ENDPOINT_*)', () => {
    const env = parseEnv({});
    expect(DEFAULT_ENDPOINT_LIMITS).toEqual({
      concurrency: env.REGWATCH_WEBHOOK_ENDPOINT_CONCURRENCY,
      ratePerSecond: env.REGWATCH_WEBHOOK_ENDPOINT_RATE,
    });
  });

  it('lets `concurrency` requests through per endpoint and defers the next, leaving other endpoints alone', () => {
    const c = clock();
    const limiter = new EndpointLimiter({ concurrency: 2, ratePerSecond: 1_000 }, c.now, () => 0.5);
    const a1 = limiter.tryAcquire('slow:443');
    const a2 = limiter.tryAcquire('slow:443');
    const a3 = limiter.tryAcquire('slow:443');
    expect(a1.ok && a2.ok).toBe(true);
    expect(a3.ok).toBe(false);
    expect(limiter.tryAcquire('fast:443').ok).toBe(true);
    if (a1.ok) a1.lease.release();
    expect(limiter.tryAcquire('slow:443').ok).toBe(true);
  });

  it('spaces deferred jobs by how long the endpoint takes, so a backlog does not come back at once', () => {
    const c = clock();
    const limiter = new EndpointLimiter({ concurrency: 1, ratePerSecond: 1_000 }, c.now, () => 0.5);
    const held = limiter.tryAcquire('hang:80');
    expect(held.ok).toBe(true);
    c.t += 4_000; // the request in flight has taken 4 s so far
    const waits = Array.from({ length: 3 }, () => {
      const r = limiter.tryAcquire('hang:80');
      return r.ok ? -1 : r.retryInMs;
    });
    expect(waits).toEqual([4_000, 8_000, 12_000]);
  });

  it('asking without reserving (a caller that waits in-process) never pushes the queue of the endpoint out', () => {
    const c = clock();
    const limiter = new EndpointLimiter({ concurrency: 1, ratePerSecond: 1_000 }, c.now, () => 0.5);
    const held = limiter.tryAcquire('busy:80');
    expect(held.ok).toBe(true);
    c.t += 400;
    const asks = Array.from({ length: 50 }, () => {
      const r = limiter.tryAcquire('busy:80', { reserve: false });
      return r.ok ? -1 : r.retryInMs;
    });
    expect(new Set(asks)).toEqual(new Set([400]));
    // A deferral after all those asks is first in line, as if none had been made.
    const deferred = limiter.tryAcquire('busy:80');
    expect(deferred.ok ? -1 : deferred.retryInMs).toBe(400);
  });

  it('holds an endpoint to its rate, with one second of burst', () => {
    const c = clock();
    const limiter = new EndpointLimiter({ concurrency: 100, ratePerSecond: 5 }, c.now, () => 0.5);
    const results = Array.from({ length: 6 }, () => {
      const r = limiter.tryAcquire('api:443');
      if (r.ok) r.lease.release();
      return r.ok;
    });
    expect(results).toEqual([true, true, true, true, true, false]);
    c.t += 200; // one token back
    const r = limiter.tryAcquire('api:443');
    expect(r.ok).toBe(true);
    const next = limiter.tryAcquire('api:443');
    expect(next.ok).toBe(false);
    if (!next.ok) expect(next.retryInMs).toBeGreaterThanOrEqual(200);
  });

  it('learns from the request time it is given, not from how long the lease was held', () => {
    const c = clock();
    const limiter = new EndpointLimiter({ concurrency: 1, ratePerSecond: 1_000 }, c.now, () => 0.5);
    // A lease held 20 s (the caller waited on Redis) for a request that took 5 ms.
    const r = limiter.tryAcquire('ok:80');
    if (!r.ok) throw new Error('expected a slot');
    c.t += 20_000;
    r.lease.release(5);
    const held = limiter.tryAcquire('ok:80');
    expect(held.ok).toBe(true);
    const next = limiter.tryAcquire('ok:80');
    expect(next.ok ? -1 : next.retryInMs).toBe(20); // the 20 ms floor, not 20 s
    // No request made: nothing learned.
    if (held.ok) held.lease.release(null);
    c.t += 30_000;
    const again = limiter.tryAcquire('ok:80');
    if (!again.ok) throw new Error('expected a slot');
    again.lease.release(null);
    const third = limiter.tryAcquire('ok:80');
    expect(third.ok).toBe(true);
    expect(((l) => (l.ok ? -1 : l.retryInMs))(limiter.tryAcquire('ok:80'))).toBe(20);
  });

  it('never reserves a deferred slot further ahead than the longest wait', () => {
    const c = clock();
    const limiter = new EndpointLimiter({ concurrency: 1, ratePerSecond: 1_000 }, c.now, () => 0.5);
    const held = limiter.tryAcquire('hang:80');
    expect(held.ok).toBe(true);
    c.t += 30_000; // in flight for 30 s: each deferral reserves 30 s more
    for (let i = 0; i < 10; i++) limiter.tryAcquire('hang:80');
    if (held.ok) held.lease.release(5);
    c.t += 61_000; // a minute later the endpoint is idle and fast
    const free = limiter.tryAcquire('hang:80');
    expect(free.ok).toBe(true);
    const deferred = limiter.tryAcquire('hang:80');
    // Without the cap the 10 reservations (300 s) would still be ahead: 60 s.
    expect(deferred.ok ? -1 : deferred.retryInMs).toBeLessThan(1_000);
  });

  it('releases a lease once, however often release is called', () => {
    const limiter = new EndpointLimiter({ concurrency: 1, ratePerSecond: 1_000 }, clock().now);
    const r = limiter.tryAcquire('x:1');
    if (!r.ok) throw new Error('expected a slot');
    r.lease.release();
    r.lease.release();
    expect(limiter.tryAcquire('x:1').ok).toBe(true);
    expect(limiter.tryAcquire('x:1').ok).toBe(false);
  });

  it('refuses nonsensical limits', () => {
    expect(() => new EndpointLimiter({ concurrency: 0, ratePerSecond: 1 })).toThrow(RangeError);
    expect(() => new EndpointLimiter({ concurrency: 1, ratePerSecond: 0 })).toThrow(RangeError);
  });
});

describe('endpointOf', () => {
  it('is host:port with the default port made explicit', () => {
    expect(endpointOf('https://Hooks.Example.com/a?b')).toBe('hooks.example.com:443');
    expect(endpointOf('http://hooks.example.com/a')).toBe('hooks.example.com:80');
    expect(endpointOf('http://127.0.0.1:8080/x')).toBe('127.0.0.1:8080');
    expect(endpointOf('http://[::1]:9/x')).toBe('[::1]:9');
    expect(endpointOf('not a url')).toBeUndefined();
  });
});
