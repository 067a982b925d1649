import { parseEnv } from '@regwatch/config';
import { type FeedSource, FeedSourceSchema, formatIssues } from '@regwatch/contracts';
import { createAddressPolicy, DEFAULT_USER_AGENT, parseAllowNets } from '@regwatch/outbound';
import { feed } from '@regwatch/poller';
import type { CommandIo } from '../io.js';

const USAGE = `usage: regwatch poll-once <url> [--json]
       regwatch poll-once --source '<source definition as JSON>' [--json]
`;

/** What a preview of a `page` source says instead of items: it has nothing to compare with. */
const PAGE_NOTE =
  'a page source emits an item only when its region changes; a preview has no earlier text to compare with, so this is the region as it reads now';

/**
 * Reads `--source`'s JSON with the config schema. An id is optional here (a preview is not
 * saved); every other field is checked as the config file and the API check it.
 * @returns the source, or the problems, one `source.<path>: message` a line.
 */
export function parseSourceOption(json: string): { source: FeedSource } | { problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    return { problems: [`not JSON: ${(err as Error).message}`] };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { problems: ['must be a JSON object, e.g. {"type":"html","url":"…","selectors":{…}}'] };
  }
  const parsed = FeedSourceSchema.safeParse({ id: 'preview', ...raw });
  return parsed.success ? { source: parsed.data } : { problems: formatIssues(parsed.error, 'source') };
}

/**
 * `regwatch poll-once <url> [--json]` or `regwatch poll-once --source '<json>' [--json]`: fetch,
 * parse and normalize one feed or source definition with every guard the poller uses (SSRF
 * policy from REGWATCH_ALLOW_NETS, size cap, timeouts, charset handling), and print its items.
 * `--source` takes any source type, so selectors can be tuned before a source is saved.
 */
export async function pollOnce(args: string[], io: CommandIo): Promise<number> {
  const json = args.includes('--json');
  const sourceAt = args.indexOf('--source');
  let source: FeedSource;
  if (sourceAt >= 0) {
    const value = args[sourceAt + 1];
    if (value === undefined || value.startsWith('--')) {
      io.stderr(`regwatch poll-once: --source needs a JSON source definition\n${USAGE}`);
      return 2;
    }
    const result = parseSourceOption(value);
    if ('problems' in result) {
      io.stderr(`regwatch poll-once: invalid --source:\n  ${result.problems.join('\n  ')}\n`);
      return 2;
    }
    source = result.source;
  } else {
    const url = args.find((a) => !a.startsWith('--'));
    if (!url) {
      io.stderr(USAGE);
      return 2;
    }
    source = { id: 'poll-once', url, intervalSeconds: 300, enabled: true };
  }
  try {
    const env = parseEnv(io.env);
    const policy = createAddressPolicy(parseAllowNets(env.REGWATCH_ALLOW_NETS));
    const preview = await feed.previewSource(source, { policy, userAgent: DEFAULT_USER_AGENT });
    const { parsed } = preview;
    if (json) {
      io.stdout(
        `${JSON.stringify({
          feed: {
            url: preview.url,
            finalUrl: preview.finalUrl,
            title: parsed.title,
            link: parsed.link,
            format: parsed.format,
            httpStatus: preview.httpStatus,
            type: preview.type,
          },
          items: parsed.items,
          ...(preview.regionText !== undefined ? { regionText: preview.regionText, note: PAGE_NOTE } : {}),
        })}\n`,
      );
    } else if (preview.regionText !== undefined) {
      const lines = preview.regionText === '' ? [] : preview.regionText.split('\n');
      io.stdout(`${source.title ?? preview.url} (page, ${lines.length} lines in the region)\n`);
      io.stdout(`note: ${PAGE_NOTE}\n`);
      for (const line of lines) io.stdout(`  ${line}\n`);
    } else {
      io.stdout(`${parsed.title ?? preview.url} (${parsed.format}, ${parsed.items.length} items)\n`);
      for (const item of parsed.items) {
        io.stdout(
          `- ${item.published.slice(0, 10)}${item.publishedEstimated ? '?' : ' '} ${item.title}\n    ${item.url ?? '(no link)'}\n`,
        );
      }
    }
    return 0;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    // One line, whatever the error: a ConfigError lists its problems on lines of their own.
    const message = (e.message ?? String(err))
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .join(' ');
    io.stderr(`regwatch poll-once: ${e.code ? `${e.code}: ` : ''}${message}\n`);
    return 1;
  }
}
