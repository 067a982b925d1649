import { PermanentError } from '@regwatch/contracts';

/** Stable codes for everything that can go wrong while loading rules or labelled data. */
export const RULES_ERROR_CODES = {
  /** The taxonomy file could not be read (missing, permissions). */
  readFailed: 'RULES_READ_FAILED',
  /** The file is not valid YAML. */
  parseFailed: 'RULES_PARSE_FAILED',
  /** The YAML does not match the taxonomy schema or refers to unknown groups, topics or codes. */
  invalid: 'RULES_INVALID',
  /** A labelled JSONL file has a bad line. */
  labelledInvalid: 'RULES_LABELLED_INVALID',
} as const;
export type RulesErrorCode = (typeof RULES_ERROR_CODES)[keyof typeof RULES_ERROR_CODES];

/**
 * A bad taxonomy or labelled file. Permanent: retrying the same file cannot help, so a holder keeps
 * the engine it has and reports this. `problems` lists one `path: message` line per issue.
 */
export class RulesError extends PermanentError {
  constructor(
    code: RulesErrorCode,
    message: string,
    readonly problems: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(code, problems.length > 0 ? `${message}\n  ${problems.join('\n  ')}` : message, options);
  }
}
