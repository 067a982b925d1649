import { type AlertFilter, queryAlerts } from '@regwatch/api';
import type { Alert } from '@regwatch/contracts';
import { AlertStore } from '@regwatch/store';
import type { CommandIo } from '../io.js';
import { CommandError, takeOption, withStores } from './redis-context.js';

const USAGE = `usage: regwatch alerts tail [-n <count>] [--follow] [--topic <t>] [--jurisdiction <j>] [--json]
`;

function line(alert: Alert): string {
  const at = alert.createdAt.slice(0, 16).replace('T', ' ');
  const where = alert.jurisdictions.join(',') || '-';
  return `${at}  ${alert.severity.toUpperCase().padEnd(8)}  ${alert.topics.join(',').padEnd(28)}  ${where.padEnd(6)}  ${alert.title}  (${alert.id})\n`;
}

/**
 * `regwatch alerts tail`: the newest alerts, oldest of them first, like `tail`; `--follow` keeps
 * printing new ones every 2 s until Ctrl-C. Reads the alert history the API reads.
 */
export async function alerts(args: string[], io: CommandIo, signal?: AbortSignal): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'tail') {
    io.stderr(USAGE);
    return 2;
  }
  return withStores('alerts tail', io, async ({ redis, prefix }) => {
    const [count, afterCount] = takeOption(rest, '-n');
    const [topic, afterTopic] = takeOption(afterCount, '--topic');
    const [jurisdiction, more] = takeOption(afterTopic, '--jurisdiction');
    const n = Number(count ?? 20);
    if (!Number.isInteger(n) || n < 1 || n > 500) throw new CommandError('-n must be a whole number from 1 to 500');
    const json = more.includes('--json');
    const filter: AlertFilter = {
      ...(topic ? { topics: [topic] } : {}),
      ...(jurisdiction ? { jurisdictions: [jurisdiction] } : {}),
    };
    const store = new AlertStore(redis, { prefix });
    const print = (list: Alert[]) => {
      for (const a of [...list].reverse()) io.stdout(json ? `${JSON.stringify(a)}\n` : line(a));
    };
    const first = await queryAlerts(store, filter, { limit: n });
    print(first.alerts);
    if (first.alerts.length === 0 && !json) io.stderr('no alerts yet\n');
    if (!more.includes('--follow')) return 0;
    const seen = new Set(first.alerts.map((a) => a.id));
    let newest = first.alerts[0] ? Date.parse(first.alerts[0].createdAt) : 0;
    while (!signal?.aborted) {
      await new Promise((r) => setTimeout(r, 2_000));
      const page = await queryAlerts(store, { ...filter, from: newest }, { limit: 200 });
      const fresh = page.alerts.filter((a) => !seen.has(a.id));
      for (const a of fresh) seen.add(a.id);
      if (fresh.length > 0) newest = Math.max(newest, ...fresh.map((a) => Date.parse(a.createdAt)));
      print(fresh);
    }
    return 0;
  });
}
