import { ConfigError, parseEnv, readConfigFile } from '@regwatch/config';
import { parseAllowNets } from '@regwatch/outbound';
import type { CommandIo } from '../io.js';

/** `regwatch config check [file]`: validates the environment and a config file. */
export function configCheck(args: string[], io: CommandIo): number {
  const problems: string[] = [];
  let file = args[0];
  try {
    const env = parseEnv(io.env);
    file ??= env.REGWATCH_CONFIG;
    parseAllowNets(env.REGWATCH_ALLOW_NETS);
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems.map((p) => `environment: ${p}`));
    else problems.push(`REGWATCH_ALLOW_NETS: ${(err as Error).message}`);
  }
  if (!file) {
    io.stderr('regwatch config check: no file given and REGWATCH_CONFIG is not set\n');
    return 2;
  }
  try {
    const cfg = readConfigFile(file, io.env);
    if (problems.length === 0) {
      io.stdout(`${file}: ok (${cfg.feeds.length} feeds, ${cfg.subscriptions.length} subscriptions)\n`);
      return 0;
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems.map((p) => `${file}: ${p}`));
  }
  io.stderr(`${problems.join('\n')}\n`);
  return 2;
}
