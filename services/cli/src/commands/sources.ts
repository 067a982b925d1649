import { parseEnv } from '@regwatch/config';
import { type FeedItem, type FeedSource, feedSourceUrl } from '@regwatch/contracts';
import { type AddressPolicy, createAddressPolicy, DEFAULT_USER_AGENT, parseAllowNets } from '@regwatch/outbound';
import { feed } from '@regwatch/poller';
import { type Catalog, defaultCatalog, feedFromPreset, type Preset, unknownPresetMessage } from '@regwatch/sources';
import type { CommandIo } from '../io.js';
import { CommandError, table, takeOption } from './redis-context.js';

const USAGE = `usage: regwatch sources list [--json]
       regwatch sources check [--json] [--rebase <origin>] [<preset id>…]
`;

const UNVERIFIED_NOTE =
  'Not one preset has been seen working: the catalogue was written on machines without internet access,\n' +
  'so URLs and selectors are best-effort (each note says how they were derived). `regwatch sources check`\n' +
  'polls every preset once from your machine and says which ones yield items.\n';

/**
 * `regwatch sources …`: the source catalogue (packages/sources). `list` shows every preset;
 * `check` polls each one once through the poller's guarded fetch and parse and says whether it
 * yields items, exiting 1 if any does not.
 */
export async function sources(args: string[], io: CommandIo, catalog: Catalog = defaultCatalog()): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === 'list') return listSources(rest, io, catalog);
    if (sub === 'check') return await checkSources(rest, io, catalog);
  } catch (err) {
    if (err instanceof CommandError) {
      io.stderr(`regwatch sources ${sub}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  io.stderr(USAGE);
  return 2;
}

function listSources(args: string[], io: CommandIo, catalog: Catalog): number {
  if (args.includes('--json')) {
    io.stdout(
      `${JSON.stringify(
        catalog.presets.map((p) => ({
          id: p.id,
          title: p.title,
          publisher: p.publisher,
          jurisdiction: p.jurisdiction,
          language: p.language,
          type: p.type,
          url: p.url,
          verified: p.verified,
          note: p.note,
          feed: p.feed,
        })),
      )}\n`,
    );
    return 0;
  }
  const rows = [['ID', 'TYPE', 'JURIS', 'LANG', 'VERIFIED', 'TITLE']];
  for (const p of catalog.presets) {
    rows.push([p.id, p.type, p.jurisdiction, p.language, p.verified ? 'yes' : 'NO', p.title]);
  }
  io.stdout(table(rows));
  const unverified = catalog.presets.filter((p) => !p.verified).length;
  if (unverified === catalog.presets.length) io.stdout(`\n${UNVERIFIED_NOTE}`);
  else if (unverified > 0)
    io.stdout(`\n${unverified} of ${catalog.presets.length} presets are unverified (VERIFIED: NO).\n`);
  io.stdout('Use one: `- preset: <id>` under feeds: in the config file, or `regwatch feeds add --preset <id>`.\n');
  return 0;
}

/** One preset's outcome in `sources check`. */
export interface PresetCheck {
  id: string;
  type: string;
  url: string;
  httpStatus?: number;
  items: number;
  /** ISO date of the newest item whose date the source gave. */
  newest?: string;
  verdict: 'ok' | 'zero items' | 'error';
  error?: string;
}

async function checkSources(args: string[], io: CommandIo, catalog: Catalog): Promise<number> {
  const json = args.includes('--json');
  const [rebase, rest] = takeOption(args, '--rebase');
  const ids = rest.filter((a) => !a.startsWith('--'));
  const unknown = ids.filter((id) => !catalog.get(id));
  if (unknown.length > 0) throw new CommandError(unknown.map((id) => unknownPresetMessage(id, catalog)).join('\n'));
  const presets = ids.length > 0 ? ids.map((id) => catalog.get(id)!) : [...catalog.presets];
  const origin = rebase === undefined ? undefined : parseOrigin(rebase);

  let policy: AddressPolicy;
  try {
    policy = createAddressPolicy(parseAllowNets(parseEnv(io.env).REGWATCH_ALLOW_NETS));
  } catch (err) {
    throw new CommandError((err as Error).message.split('\n').join(' '));
  }
  const results = await mapLimit(presets, 3, (p) => checkPreset(p, catalog, policy, origin));

  if (json) io.stdout(`${JSON.stringify(results)}\n`);
  else {
    const rows = [['PRESET', 'TYPE', 'HTTP', 'ITEMS', 'NEWEST', 'VERDICT']];
    for (const r of results) {
      rows.push([
        r.id,
        r.type,
        r.httpStatus !== undefined ? String(r.httpStatus) : '-',
        String(r.items),
        r.newest?.slice(0, 10) ?? '-',
        r.verdict === 'error' ? `error: ${r.error}` : r.verdict,
      ]);
    }
    io.stdout(table(rows));
    const failed = results.filter((r) => r.verdict !== 'ok').length;
    io.stdout(
      failed === 0
        ? `\nall ${results.length} presets yield items\n`
        : `\n${failed} of ${results.length} presets yield nothing; fix their URL or selectors in the config (overrides) or the catalogue\n`,
    );
  }
  return results.every((r) => r.verdict === 'ok') ? 0 : 1;
}

/** Polls one preset once; never throws (a failure is the verdict). */
async function checkPreset(
  preset: Preset,
  catalog: Catalog,
  policy: AddressPolicy,
  origin: URL | undefined,
): Promise<PresetCheck> {
  let source: FeedSource = preset.feed;
  if (origin) source = feedFromPreset(preset.id, { url: rebaseUrl(preset.url, origin) }, catalog);
  const base = { id: preset.id, type: preset.type, url: feedSourceUrl(source) };
  let preview: feed.PreviewResult;
  try {
    // The poller's own fetch and parser (the same that `poll-once --source` uses).
    preview = await feed.previewSource(source, { policy, userAgent: DEFAULT_USER_AGENT });
  } catch (err) {
    const e = err as { code?: string; message?: string; httpStatus?: number; status?: number };
    const status = e.httpStatus ?? e.status;
    return {
      ...base,
      ...(typeof status === 'number' ? { httpStatus: status } : {}),
      items: 0,
      verdict: 'error',
      error: oneLine(`${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`),
    };
  }
  const { items } = preview.parsed;
  const newest = newestDate(items);
  // A `page` source yields items only when its region changes; a preview sees whether it exists.
  const isOk = preview.type === 'page' ? Boolean(preview.regionText?.trim()) : items.length > 0;
  return {
    ...base,
    httpStatus: preview.httpStatus,
    items: items.length,
    ...(newest ? { newest } : {}),
    verdict: isOk ? 'ok' : 'zero items',
  };
}

function newestDate(items: readonly FeedItem[]): string | undefined {
  let best: string | undefined;
  for (const item of items) {
    if (item.publishedEstimated) continue;
    if (best === undefined || Date.parse(item.published) > Date.parse(best)) best = item.published;
  }
  return best;
}

function parseOrigin(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CommandError(`--rebase: "${text}" is not a URL; give an origin such as http://127.0.0.1:8081`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CommandError('--rebase: must be an http(s) origin');
  return url;
}

/** The same path and query on another origin: for checking the catalogue against a local mirror. */
export function rebaseUrl(url: string, origin: URL): string {
  const u = new URL(url);
  return new URL(`${u.pathname}${u.search}`, origin.origin).toString();
}

function oneLine(text: string): string {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}
