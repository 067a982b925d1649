/** Where source alarms go: `REGWATCH_OPS_EMAIL` and/or `REGWATCH_OPS_WEBHOOK_URL` + `_SECRET`. */
export interface OpsChannels {
  email?: { to: readonly string[] };
  webhook?: { url: string; secret: string };
}

/** The configured ops channels, from the parsed environment (either, both or none). */
export function opsChannelsFromEnv(env: {
  REGWATCH_OPS_EMAIL: readonly string[];
  REGWATCH_OPS_WEBHOOK_URL?: string | undefined;
  REGWATCH_OPS_WEBHOOK_SECRET?: string | undefined;
}): OpsChannels {
  return {
    ...(env.REGWATCH_OPS_EMAIL.length > 0 ? { email: { to: [...env.REGWATCH_OPS_EMAIL] } } : {}),
    ...(env.REGWATCH_OPS_WEBHOOK_URL && env.REGWATCH_OPS_WEBHOOK_SECRET
      ? { webhook: { url: env.REGWATCH_OPS_WEBHOOK_URL, secret: env.REGWATCH_OPS_WEBHOOK_SECRET } }
      : {}),
  };
}

/** The channel names configured, in a fixed order. */
export function opsChannelNames(channels: OpsChannels): Array<'email' | 'webhook'> {
  return [...(channels.email ? (['email'] as const) : []), ...(channels.webhook ? (['webhook'] as const) : [])];
}
