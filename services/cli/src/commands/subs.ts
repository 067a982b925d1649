import { readFileSync } from 'node:fs';
import { readCatalog, sendTestAlert } from '@regwatch/api';
import { ConfigError, parseConfigText } from '@regwatch/config';
import { QUEUES } from '@regwatch/contracts';
import { createQueue } from '@regwatch/queue';
import { AlertStore, CatalogStore } from '@regwatch/store';
import type { CommandIo } from '../io.js';
import { CommandError, table, takeOption, withStores } from './redis-context.js';

const USAGE = `usage: regwatch subs list [--team <team>] [--json]
       regwatch subs add <file.yaml|file.json|->   (the config file's shape: a "subscriptions:" list; \${VARS} expanded)
       regwatch subs pause <id> | resume <id>
       regwatch subs test <id>                     (a test alert through every channel)
`;

/** `regwatch subs …`: API-made subscriptions in Redis, through the stores the API uses. */
export async function subs(args: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  if (!['list', 'add', 'pause', 'resume', 'test'].includes(sub ?? '')) {
    io.stderr(USAGE);
    return 2;
  }
  // Read the file before connecting, so a bad file fails without touching Redis.
  let toAdd: ReturnType<typeof parseConfigText>['subscriptions'] = [];
  if (sub === 'add') {
    const path = rest[0];
    if (!path) {
      io.stderr(USAGE);
      return 2;
    }
    try {
      const text = path === '-' ? await io.readStdin() : readFileSync(path, 'utf8');
      toAdd = parseConfigText(text, path === '-' ? 'stdin' : path, io.env).subscriptions;
    } catch (err) {
      io.stderr(`regwatch subs add: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
      return 2;
    }
    if (toAdd.length === 0) {
      io.stderr(`regwatch subs add: ${path} lists no subscriptions (expected a "subscriptions:" list)\n`);
      return 2;
    }
  }

  return withStores(`subs ${sub}`, io, async ({ redis, prefix, file }) => {
    const catalog = new CatalogStore(redis, prefix);
    const view = () => readCatalog(catalog, { feeds: () => file.feeds, subscriptions: () => file.subscriptions });
    const find = async (id: string | undefined) => {
      if (!id) throw new CommandError(`a subscription id is required\n${USAGE}`);
      const found = (await view()).subscriptions().find((s) => s.item.id === id);
      if (!found) throw new CommandError(`no subscription "${id}"`);
      return found;
    };

    switch (sub) {
      case 'list': {
        const [team] = takeOption(rest, '--team');
        const located = (await view()).subscriptions().filter((s) => team === undefined || s.item.team === team);
        if (rest.includes('--json')) {
          // Secrets stay out of terminals and logs.
          const redacted = located.map(({ item, source }) => ({
            ...item,
            channels: item.channels.map((c) => (c.type === 'webhook' ? { ...c, secret: '[redacted]' } : c)),
            source,
          }));
          io.stdout(`${JSON.stringify(redacted)}\n`);
          return 0;
        }
        const rows = [['ID', 'TEAM', 'SOURCE', 'MODE', 'PAUSED', 'CHANNELS']];
        for (const { item, source } of located) {
          const channels = item.channels.map((c) =>
            c.type === 'webhook' ? `webhook ${new URL(c.url).host}` : `email ${c.to.join(',')}`,
          );
          rows.push([item.id, item.team, source, item.mode, item.paused ? 'yes' : 'no', channels.join('; ')]);
        }
        io.stdout(table(rows));
        return 0;
      }
      case 'add': {
        const existing = new Set((await view()).subscriptions().map((s) => s.item.id));
        let failed = 0;
        for (const s of toAdd) {
          if (existing.has(s.id) || !(await catalog.createSubscription(s))) {
            io.stderr(
              `regwatch subs add: subscription "${s.id}" already exists (${file.subscriptions.some((f) => f.id === s.id) ? 'in the config file' : 'made over the API'})\n`,
            );
            failed++;
            continue;
          }
          io.stdout(`added subscription ${s.id} (team ${s.team})\n`);
        }
        return failed > 0 ? 1 : 0;
      }
      case 'pause':
      case 'resume': {
        const found = await find(rest[0]);
        await catalog.setPaused(found.item.id, sub === 'pause');
        io.stdout(`${sub === 'pause' ? 'paused' : 'resumed'} subscription ${found.item.id}\n`);
        return 0;
      }
      default: {
        const found = await find(rest[0]);
        if (found.item.paused) throw new CommandError(`subscription "${found.item.id}" is paused; resume it first`);
        const deliveries = createQueue(QUEUES.deliveries, { connection: redis, prefix });
        try {
          const sent = await sendTestAlert({ alerts: new AlertStore(redis, { prefix }), deliveries }, found.item);
          for (const d of sent.deliveries) io.stdout(`queued test ${d.channel} delivery ${d.deliveryId}\n`);
          io.stdout(
            'a running notifier sends them within seconds; see them with: regwatch dlq list, or GET /v1/deliveries/<id>\n',
          );
        } finally {
          await deliveries.close();
        }
        return 0;
      }
    }
  });
}
