/**
 * The error taxonomy. Workers map these onto BullMQ: a PermanentError fails the job for good
 * (UnrecoverableError), a RetryableError uses the queue's backoff, a RateLimitedError waits
 * the time the other side asked for. Unknown errors are treated as retryable.
 */
export class RegwatchError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Retrying cannot help: a bad payload, a feed that is gone, a recipient the server rejected. */
export class PermanentError extends RegwatchError {}

/** A timeout, a 5xx, an SMTP 4xx: try again later. */
export class RetryableError extends RegwatchError {}

/** The other side asked us to wait (HTTP 429/503 with Retry-After). */
export class RateLimitedError extends RetryableError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError;
}
