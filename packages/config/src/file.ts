import { FeedSourceSchema, SubscriptionSchema } from '@regwatch/contracts';
import { z } from 'zod';

/** The config file (`REGWATCH_CONFIG`, YAML or JSON): feeds and subscriptions. */
export const ConfigFileSchema = z
  .object({
    feeds: z.array(FeedSourceSchema).default([]),
    subscriptions: z.array(SubscriptionSchema).default([]),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    for (const [key, list] of [
      ['feeds', cfg.feeds],
      ['subscriptions', cfg.subscriptions],
    ] as const) {
      const seen = new Map<string, number>();
      list.forEach((entry, i) => {
        const first = seen.get(entry.id);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key, i, 'id'],
            message: `duplicate id "${entry.id}" (first used by ${key}[${first}])`,
          });
        } else seen.set(entry.id, i);
      });
    }
  });
export type ConfigFile = z.infer<typeof ConfigFileSchema>;
