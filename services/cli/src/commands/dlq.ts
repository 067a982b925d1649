import { listProblems, type ProblemState, replayOne } from '@regwatch/api';
import { QUEUES } from '@regwatch/contracts';
import { notifierStores } from '@regwatch/notifier';
import { createQueue } from '@regwatch/queue';
import type { CommandIo } from '../io.js';
import { CommandError, table, takeOption, withStores } from './redis-context.js';

const USAGE = `usage: regwatch dlq list [--state dead|failed|retrying] [--subscription <id>] [-n <count>] [--json]
       regwatch dlq replay <id>...
       regwatch dlq replay --all [--state dead|failed] [--subscription <id>] [-n <count>]
`;

/** `regwatch dlq …`: dead-lettered and failed deliveries, and replaying them, as the API does. */
export async function dlq(args: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'list' && sub !== 'replay') {
    io.stderr(USAGE);
    return 2;
  }
  return withStores(`dlq ${sub}`, io, async ({ redis, prefix }) => {
    const [state, afterState] = takeOption(rest, '--state');
    const [subscriptionId, afterSubscription] = takeOption(afterState, '--subscription');
    const [count, more] = takeOption(afterSubscription, '-n');
    const wanted = (state ?? 'dead') as ProblemState;
    if (!['dead', 'failed', 'retrying'].includes(wanted))
      throw new CommandError('--state must be dead, failed or retrying');
    const limit = Number(count ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1_000)
      throw new CommandError('-n must be a whole number from 1 to 1000');
    const deliveries = createQueue(QUEUES.deliveries, { connection: redis, prefix });
    const { deadLetters } = notifierStores({ connection: redis, prefix });
    try {
      const list = () =>
        listProblems({ deadLetters, deliveries }, wanted, { limit, ...(subscriptionId ? { subscriptionId } : {}) });
      if (sub === 'list') {
        const page = await list();
        if (more.includes('--json')) {
          io.stdout(`${JSON.stringify(page.deliveries)}\n`);
          return 0;
        }
        if (page.deliveries.length === 0) {
          io.stdout(`no ${wanted} deliveries\n`);
          return 0;
        }
        const rows = [['ID', 'FAILED AT', 'SUBSCRIPTION', 'CHANNEL', 'TRIES', 'REASON']];
        for (const d of page.deliveries) {
          rows.push([
            d.id,
            d.at.slice(0, 19),
            d.subscriptionId,
            d.channel ?? '-',
            String(d.attempts),
            d.reason ?? d.message.slice(0, 60),
          ]);
        }
        io.stdout(table(rows));
        return 0;
      }
      const ids = more.includes('--all')
        ? (await list()).deliveries.map((d) => d.id)
        : more.filter((a) => !a.startsWith('-'));
      if (ids.length === 0)
        throw new CommandError(
          more.includes('--all') ? `no ${wanted} deliveries to replay` : `give ids or --all\n${USAGE}`,
        );
      let missing = 0;
      for (const id of ids) {
        const done = await replayOne({ connection: redis, prefix, deadLetters, deliveries }, id);
        if (done) io.stdout(`replayed ${id} (${done.state}) as job ${done.jobId}\n`);
        else {
          io.stderr(
            `regwatch dlq replay: nothing to replay for "${id}" (not a dead letter, failed or retrying delivery)\n`,
          );
          missing++;
        }
      }
      return missing > 0 ? 1 : 0;
    } finally {
      await deliveries.close();
    }
  });
}
