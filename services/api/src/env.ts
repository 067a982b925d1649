import { formatIssues } from '@regwatch/contracts';
import { z } from 'zod';

/**
 * The api's own settings (the shared ones — Redis, prefix, host, port, unsubscribe secret — come
 * from @regwatch/config). Parsed once in main.
 */
export const ApiEnvSchema = z.object({
  /** Services /readyz requires a live heartbeat of, comma-separated; empty: none. */
  API_REQUIRED_SERVICES: z
    .string()
    .optional()
    .transform((v) =>
      v === undefined
        ? ['poller', 'classifier', 'notifier']
        : v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    ),
  /** Requests per token per minute; 0 turns the limit off. */
  API_RATE_LIMIT_PER_MINUTE: z.preprocess(
    (v) => (v === '' || v === undefined ? undefined : v),
    z.coerce.number().int().min(0).default(600),
  ),
});
export type ApiEnv = z.infer<typeof ApiEnvSchema>;

export function parseApiEnv(env: NodeJS.ProcessEnv): ApiEnv {
  const result = ApiEnvSchema.safeParse(env);
  if (!result.success) throw new Error(`invalid environment: ${formatIssues(result.error).join('; ')}`);
  return result.data;
}
