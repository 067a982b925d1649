import { readCatalog } from '@regwatch/api';
import { type FeedSource, FeedSourceSchema, feedSourceUrl, formatIssues } from '@regwatch/contracts';
import { defaultCatalog, feedFromPreset, SourcesError } from '@regwatch/sources';
import { CatalogStore, FeedStateStore } from '@regwatch/store';
import type { CommandIo } from '../io.js';
import { CommandError, table, takeOption, withStores } from './redis-context.js';

const USAGE = `usage: regwatch feeds list [--json]
       regwatch feeds add <id> <url> [--interval <seconds>] [--title <text>] [--disabled]
       regwatch feeds add --preset <preset id> [--id <id>] [--interval <seconds>] [--title <text>] [--disabled]
       regwatch feeds rm <id>
`;

/**
 * `regwatch feeds …`: the API's feed catalog, read and written in Redis with the same store the
 * API uses. Config-file feeds are listed but cannot be added over or removed here.
 */
export async function feeds(args: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'list' && sub !== 'add' && sub !== 'rm') {
    io.stderr(USAGE);
    return 2;
  }
  return withStores(`feeds ${sub}`, io, async ({ redis, prefix, file }) => {
    const catalog = new CatalogStore(redis, prefix);
    const fileCatalog = { feeds: () => file.feeds, subscriptions: () => file.subscriptions };
    const isFileFeed = (id: string) => file.feeds.some((f) => f.id === id);

    if (sub === 'list') {
      const located = (await readCatalog(catalog, fileCatalog)).feeds();
      const states = new FeedStateStore(redis, prefix);
      const health = await Promise.all(located.map((f) => states.get(f.item.id)));
      if (rest.includes('--json')) {
        io.stdout(`${JSON.stringify(located.map((f, i) => ({ ...f.item, source: f.source, health: health[i] })))}\n`);
        return 0;
      }
      const rows = [['ID', 'SOURCE', 'TYPE', 'EVERY', 'ENABLED', 'LAST', 'FAILURES', 'URL']];
      located.forEach(({ item, source }, i) => {
        const h = health[i]!;
        rows.push([
          item.id,
          source,
          item.type ?? 'rss',
          `${item.intervalSeconds}s`,
          item.enabled ? 'yes' : 'no',
          h.lastStatus !== undefined ? String(h.lastStatus) : '-',
          String(h.consecutiveFailures),
          feedSourceUrl(item),
        ]);
      });
      io.stdout(table(rows));
      return 0;
    }

    if (sub === 'add') {
      const [interval, afterInterval] = takeOption(rest, '--interval');
      const [title, afterTitle] = takeOption(afterInterval, '--title');
      const [preset, afterPreset] = takeOption(afterTitle, '--preset');
      const [presetFeedId, more] = takeOption(afterPreset, '--id');
      const disabled = more.includes('--disabled');
      const positional = more.filter((a) => !a.startsWith('--'));
      const overrides = {
        ...(interval !== undefined ? { intervalSeconds: Number(interval) } : {}),
        ...(title !== undefined ? { title } : {}),
        ...(disabled ? { enabled: false } : {}),
      };
      let feed: FeedSource;
      if (preset !== undefined) {
        // A catalogue preset: its URL, type and selectors, with the options laid over them.
        if (positional.length > 0) throw new CommandError(`--preset takes no id or URL; use --id <id>\n${USAGE}`);
        try {
          feed = feedFromPreset(preset, { ...(presetFeedId !== undefined ? { id: presetFeedId } : {}), ...overrides });
        } catch (err) {
          if (err instanceof SourcesError) throw new CommandError(`invalid feed:\n  ${err.problems.join('\n  ')}`);
          throw err;
        }
      } else {
        const [id, url] = positional;
        if (!id || !url) throw new CommandError(`feed id and URL (or --preset <id>) are required\n${USAGE}`);
        const parsed = FeedSourceSchema.safeParse({ id, url, ...overrides });
        if (!parsed.success) throw new CommandError(`invalid feed:\n  ${formatIssues(parsed.error).join('\n  ')}`);
        feed = parsed.data;
      }
      const { id } = feed;
      if (isFileFeed(id)) throw new CommandError(`feed "${id}" is in the config file; change it there`);
      if (!(await catalog.createFeed(feed))) throw new CommandError(`feed "${id}" already exists`);
      const unverified = preset !== undefined && !defaultCatalog().get(preset)?.verified;
      const from =
        preset === undefined
          ? ''
          : ` from preset ${preset}${unverified ? ` (unverified: \`regwatch sources check ${preset}\` tests it)` : ''}`;
      io.stdout(`added feed ${id}${from} (every ${feed.intervalSeconds}s); the poller picks it up within seconds\n`);
      return 0;
    }

    const [id] = rest;
    if (!id) throw new CommandError(`a feed id is required\n${USAGE}`);
    if (isFileFeed(id)) throw new CommandError(`feed "${id}" is in the config file; remove it there`);
    if (!(await catalog.removeFeed(id))) throw new CommandError(`no API-made feed "${id}"`);
    await new FeedStateStore(redis, prefix).remove(id);
    io.stdout(`removed feed ${id}\n`);
    return 0;
  });
}
