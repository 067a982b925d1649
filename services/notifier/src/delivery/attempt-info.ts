/** What a failed attempt still tells us, for the `DeliveryAttempt` record. */
export interface AttemptInfo {
  /** HTTP status or SMTP reply code, when the other side answered. */
  code?: number;
  latencyMs: number;
}

// Kept beside the error rather than on it: the error classes stay the contracts' own, and nothing
// here is ever serialized into logs by accident.
const info = new WeakMap<object, AttemptInfo>();

/** Records the status and latency of the attempt that raised `err`; returns `err`, for `throw withAttemptInfo(...)`. */
export function withAttemptInfo<E extends Error>(err: E, details: AttemptInfo): E {
  info.set(err, details);
  return err;
}

/** The status code and latency of the failed attempt that raised `err`, if a sender recorded them. */
export function getAttemptInfo(err: unknown): AttemptInfo | undefined {
  return typeof err === 'object' && err !== null ? info.get(err) : undefined;
}
