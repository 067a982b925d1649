import { EmailAddressSchema, HttpUrlSchema } from '@regwatch/contracts';
import { z } from 'zod';

/** Empty strings count as unset, so `FOO=` in a .env file means "use the default". */
function optionalString() {
  return z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
}

/** Strict booleans: only "true"/"1" and "false"/"0"; anything else is an error, not a silent false. */
function strictBoolean(defaultValue: boolean) {
  return z.preprocess(
    (v) => (v === '' || v === undefined ? undefined : v),
    z
      .enum(['true', 'false', '1', '0'], { message: 'must be "true", "false", "1" or "0"' })
      .optional()
      .transform((v) => (v === undefined ? defaultValue : v === 'true' || v === '1')),
  );
}

function port(defaultValue: number) {
  return z.preprocess(
    (v) => (v === '' || v === undefined ? undefined : v),
    z.coerce.number().int().min(0).max(65_535).default(defaultValue),
  );
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A comma-separated list of durations (`5s,5m,30m,2h,5h,10h`): the waits between delivery
 * attempts. Each step is 1 s to 7 d, at most 20 steps; the error names the bad step.
 */
function retrySchedule(defaultValue: string) {
  return z.preprocess(
    (v) => (v === '' || v === undefined ? defaultValue : v),
    z.string().transform((text, ctx) => {
      const steps = text.split(',').map((x) => x.trim());
      const out: number[] = [];
      if (steps.length > 20) {
        ctx.addIssue({ code: 'custom', message: `has ${steps.length} steps; at most 20` });
        return z.NEVER;
      }
      for (const [i, step] of steps.entries()) {
        const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(step);
        const ms = m ? Math.round(Number(m[1]) * DURATION_UNITS_MS[m[2]!]!) : Number.NaN;
        if (!m) {
          ctx.addIssue({
            code: 'custom',
            message: `step ${i + 1} "${step}" is not a duration like 5s, 5m, 2h or 1d (a number and ms|s|m|h|d)`,
          });
        } else if (ms < 1_000 || ms > 7 * 86_400_000) {
          ctx.addIssue({ code: 'custom', message: `step ${i + 1} "${step}" is out of range: 1s to 7d` });
        }
        out.push(ms);
      }
      return out;
    }),
  );
}

function positiveNumber(defaultValue: number, max: number) {
  return z.preprocess(
    (v) => (v === '' || v === undefined ? undefined : v),
    z.coerce.number().positive().max(max).default(defaultValue),
  );
}

function countAtLeast(min: number, defaultValue: number) {
  return z.preprocess(
    (v) => (v === '' || v === undefined ? undefined : v),
    z.coerce.number().int().min(min).max(1000).default(defaultValue),
  );
}

/** Every environment variable regwatch reads. `.env.example` documents each one. */
export const EnvSchema = z.object({
  REDIS_URL: optionalString(),
  REDIS_CLUSTER_NODES: optionalString(),
  REGWATCH_PREFIX: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1–32 letters, digits, "-" or "_"')
      .default('regwatch'),
  ),
  REGWATCH_CONFIG: optionalString(),
  REGWATCH_DATA_DIR: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('.regwatch')),
  REGWATCH_ALLOW_NETS: optionalString(),
  REGWATCH_RULES: optionalString(),
  SMTP_URL: optionalString(),
  SMTP_FROM: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('regwatch <alerts@regwatch.local>')),
  REGWATCH_OUTBOX_DIR: optionalString(),
  REGWATCH_PUBLIC_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().url().default('http://127.0.0.1:8080'),
  ),
  REGWATCH_UNSUBSCRIBE_SECRET: optionalString(),
  REGWATCH_DISABLE_AFTER_HOURS: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce.number().positive().default(72),
  ),
  API_HOST: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('127.0.0.1')),
  API_PORT: port(8080),
  /** Services whose live heartbeat the api's /readyz requires, comma-separated; empty: none. */
  API_REQUIRED_SERVICES: z
    .string()
    .optional()
    .transform((v) =>
      v === undefined
        ? ['poller', 'classifier', 'notifier']
        : v
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
    ),
  /** Requests per API token per minute; 0 turns the limit off. */
  API_RATE_LIMIT_PER_MINUTE: z.preprocess(
    (v) => (v === '' || v === undefined ? undefined : v),
    z.coerce.number().int().min(0).default(600),
  ),
  /** A bearer token Prometheus may scrape the api's /metrics with (besides ops/admin API tokens); unset: none. */
  METRICS_TOKEN: optionalString(),
  HEALTH_HOST: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('127.0.0.1')),
  HEALTH_PORT: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1).max(65_535).optional()),
  LOG_LEVEL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  ),
  LOG_FORMAT: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['json', 'pretty', 'auto']).default('auto')),
  REGWATCH_ALLOW_EVICTION: strictBoolean(false),
  REGWATCH_SEEN_RETENTION_DAYS: z.preprocess(
    (v) => (v === '' || v === undefined ? undefined : v),
    z.coerce.number().int().min(1).max(3650).default(90),
  ),
  /** Waits between a delivery's attempts (ms after parsing), jittered ±20 %; attempts = steps + 1. */
  REGWATCH_RETRY_SCHEDULE: retrySchedule('5s,5m,30m,2h,5h,10h'),
  /**
   * Webhook requests in flight to one endpoint (host:port) at once, per notifier process. Default 4,
   * as the notifier's DEFAULT_ENDPOINT_LIMITS.
   */
  REGWATCH_WEBHOOK_ENDPOINT_CONCURRENCY: countAtLeast(1, 4),
  /** Webhook requests started per second to one endpoint, per notifier process (a one-second burst allowed). Default 20. */
  REGWATCH_WEBHOOK_ENDPOINT_RATE: positiveNumber(20, 100_000),
  /** Ops channel for source alarms: addresses, comma-separated; empty: no ops email. */
  REGWATCH_OPS_EMAIL: z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean)
        : [],
    z.array(EmailAddressSchema).max(20),
  ),
  /** Ops channel for source alarms: a webhook signed like subscriber webhooks; needs REGWATCH_OPS_WEBHOOK_SECRET. */
  REGWATCH_OPS_WEBHOOK_URL: z.preprocess((v) => (v === '' ? undefined : v), HttpUrlSchema.optional()),
  REGWATCH_OPS_WEBHOOK_SECRET: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be a Standard Webhooks secret: whsec_ followed by base64')
      .optional(),
  ),
  /** A source is silent when nothing new came for this many times its usual (p90) gap between new items… */
  REGWATCH_SOURCE_SILENT_MULTIPLIER: positiveNumber(4, 100),
  /** …and never sooner than this many hours. */
  REGWATCH_SOURCE_SILENT_FLOOR_HOURS: positiveNumber(6, 24 * 365),
  /** Polls failing in a row before a source is reported `failing`. */
  REGWATCH_SOURCE_FAILING_AFTER: countAtLeast(1, 3),
  /** Polls in a row with zero items (from a source that had some) before it is reported `empty`. */
  REGWATCH_SOURCE_EMPTY_AFTER: countAtLeast(1, 2),
  /** Good polls in a row before an `empty` or `failing` incident is resolved (keeps a flapping source quiet). */
  REGWATCH_SOURCE_RECOVER_AFTER: countAtLeast(1, 2),
});
export type Env = z.infer<typeof EnvSchema>;
