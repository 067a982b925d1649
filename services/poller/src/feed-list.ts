import type { ConfigFile } from '@regwatch/config';
import type { FeedSource } from '@regwatch/contracts';

export type ReloadResult =
  | { ok: true; feeds: number; previousFeeds: number }
  | { ok: false; error: Error; feeds: number };

/** The live feed list: what the poller's `feeds` getter reads, replaced whole on a reload. */
export interface FeedList {
  feeds(): readonly FeedSource[];
  /** Re-reads the source; a file that does not load is refused and the current list stays. */
  reload(): ReloadResult;
}

/**
 * Holds the feed list of a config file. `read` is `readConfigFile` bound to the file (a test
 * passes its own); it throws `ConfigError` naming every problem of a bad file.
 */
export function createFeedList(initial: readonly FeedSource[], read?: () => ConfigFile): FeedList {
  let current = initial;
  return {
    feeds: () => current,
    reload: () => {
      if (!read)
        return {
          ok: false,
          error: new Error('no config file to reload (REGWATCH_CONFIG is not set)'),
          feeds: current.length,
        };
      try {
        const next = read().feeds;
        const previousFeeds = current.length;
        current = next;
        return { ok: true, feeds: next.length, previousFeeds };
      } catch (err) {
        return { ok: false, error: err as Error, feeds: current.length };
      }
    },
  };
}
