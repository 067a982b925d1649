import { parseEnv } from '@regwatch/config';
import { createAddressPolicy, DEFAULT_USER_AGENT, parseAllowNets } from '@regwatch/outbound';
import { feed } from '@regwatch/poller';
import type { CommandIo } from '../io.js';

/**
 * `regwatch poll-once <url> [--json]`: fetch, parse and normalize one feed with every guard the
 * poller uses (SSRF policy from REGWATCH_ALLOW_NETS, size cap, timeouts), and print its items.
 */
export async function pollOnce(args: string[], io: CommandIo): Promise<number> {
  const json = args.includes('--json');
  const url = args.find((a) => !a.startsWith('--'));
  if (!url) {
    io.stderr('usage: regwatch poll-once <url> [--json]\n');
    return 2;
  }
  try {
    const env = parseEnv(io.env);
    const policy = createAddressPolicy(parseAllowNets(env.REGWATCH_ALLOW_NETS));
    const fetched = await feed.fetchFeed(url, {}, { policy, userAgent: DEFAULT_USER_AGENT });
    if (fetched.status !== 'ok') throw new Error(`unexpected ${fetched.httpStatus} without validators`);
    const parsed = await feed.parseFeed(fetched.body, {
      feedId: 'poll-once',
      baseUrl: fetched.finalUrl,
      fetchedAt: new Date(),
      ...(fetched.contentType ? { contentType: fetched.contentType } : {}),
    });
    if (json) {
      io.stdout(
        `${JSON.stringify({
          feed: {
            url,
            finalUrl: fetched.finalUrl,
            title: parsed.title,
            link: parsed.link,
            format: parsed.format,
            httpStatus: fetched.httpStatus,
          },
          items: parsed.items,
        })}\n`,
      );
    } else {
      io.stdout(`${parsed.title ?? url} (${parsed.format}, ${parsed.items.length} items)\n`);
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
