import { PermanentError } from '@regwatch/contracts';

/** The one error `parseFeed` throws: the document cannot be read as a feed, so retrying is pointless. */
export function feedParseError(message: string, cause?: unknown): PermanentError {
  return new PermanentError('FEED_PARSE', message, cause === undefined ? undefined : { cause });
}
