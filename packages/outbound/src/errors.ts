import { PermanentError, RegwatchError, RetryableError } from '@regwatch/contracts';

/** Codes whose cause will not go away by retrying the same request. */
export type OutboundPermanentCode =
  | 'OUTBOUND_BAD_URL'
  | 'OUTBOUND_BLOCKED_ADDRESS'
  | 'OUTBOUND_TOO_LARGE'
  | 'OUTBOUND_TOO_MANY_REDIRECTS'
  | 'OUTBOUND_BAD_ENCODING';

/** Codes for network trouble that is worth another try later. */
export type OutboundRetryableCode = 'OUTBOUND_TIMEOUT' | 'OUTBOUND_CONNECT' | 'OUTBOUND_DNS';

export type OutboundErrorCode = OutboundPermanentCode | OutboundRetryableCode;

/** A permanent outbound failure: a bad or refused URL, an oversized or undecodable body. */
export class OutboundPermanentError extends PermanentError {
  declare readonly code: OutboundPermanentCode;
  constructor(code: OutboundPermanentCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A transient outbound failure: DNS, connect, timeout. */
export class OutboundRetryableError extends RetryableError {
  declare readonly code: OutboundRetryableCode;
  constructor(code: OutboundRetryableCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Matches every error this package throws. It cannot be a real common base class, because each
 * error must also be a contracts `PermanentError` or `RetryableError` (that is what the workers
 * map onto BullMQ) and a class has one parent; so `instanceof OutboundError` is answered by
 * `Symbol.hasInstance`. Construct errors with {@link createOutboundError}.
 */
export abstract class OutboundError extends RegwatchError {
  declare readonly code: OutboundErrorCode;
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof OutboundPermanentError || value instanceof OutboundRetryableError;
  }
}

const RETRYABLE_CODES: ReadonlySet<string> = new Set<OutboundRetryableCode>([
  'OUTBOUND_TIMEOUT',
  'OUTBOUND_CONNECT',
  'OUTBOUND_DNS',
]);

/** Builds the right kind (permanent or retryable) of error for a code. */
export function createOutboundError(
  code: OutboundErrorCode,
  message: string,
  options?: { cause?: unknown },
): OutboundPermanentError | OutboundRetryableError {
  return RETRYABLE_CODES.has(code)
    ? new OutboundRetryableError(code as OutboundRetryableCode, message, options)
    : new OutboundPermanentError(code as OutboundPermanentCode, message, options);
}

/** True for any error raised by `@regwatch/outbound`. */
export function isOutboundError(err: unknown): err is OutboundPermanentError | OutboundRetryableError {
  return err instanceof OutboundPermanentError || err instanceof OutboundRetryableError;
}
