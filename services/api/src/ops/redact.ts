/** What an `ops` token sees instead of a job's payload, result or log lines. */
export const REDACTED = '[redacted: job data is shown to admin tokens only]';

/** A job as bull-board formats it (`formatJob`), or a scheduler's job template: both have `opts`. */
function isJobLike(value: Record<string, unknown>): boolean {
  return 'opts' in value && ('data' in value || 'returnValue' in value);
}

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const jobLike = isJobLike(record);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(record)) {
    if (jobLike && (key === 'data' || key === 'returnValue') && inner !== undefined && inner !== null) {
      out[key] = REDACTED;
    } else if (key === 'readOnlyMode') {
      // The board hides its retry/clean/promote buttons for read-only queues.
      out[key] = true;
    } else if (key === 'allowRetries' || key === 'allowCompletedRetries') {
      out[key] = false;
    } else {
      out[key] = redactValue(inner);
    }
  }
  return out;
}

/**
 * Redacts one bull-board JSON answer for a read-only role: job payloads and results (in queue
 * listings, one job, scheduler templates) replaced by {@link REDACTED}, log lines dropped, every
 * queue marked read-only. Not JSON: unchanged (the board's HTML and static files carry no job data).
 */
export function redactBoardResponse(path: string, payload: string): string {
  if (/\/logs$/.test(path)) return JSON.stringify([REDACTED]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return payload;
  }
  return JSON.stringify(redactValue(parsed));
}
