import type { FeedItem } from '@regwatch/contracts';
import type { ItemChunk } from './item-chunks.js';
import { sha256Hex } from './item-id.js';
import type { FeedEntry } from './normalize-item.js';

/**
 * What a feed's last document said about its item elements: the hash of each element's text, and
 * the id, URL and fragment it normalized to. A poll usually gets back mostly the items it read
 * last time, byte for byte; with the memo, those elements are left out of the parse (which costs
 * in proportion to the elements parsed) and their identities are taken from here. The poll then
 * decides exactly as it would have with every element parsed: the remembered entries are checked
 * against the seen items like the others, and one that turns out not to be seen (the seen set has
 * forgotten it) makes the poll parse the whole document again.
 *
 * An element is remembered only when its identity depends on nothing but its own text and
 * `context` (the feed, its format, base URL and language): entries identified by guid or link.
 */
export interface EntryMemo {
  context: string;
  /** Element hash → the entry it stands for (`remembered`: its `item()` throws). */
  entries: Map<string, FeedEntry>;
}

/**
 * The entry a remembered element stands for: its identity, and no item (it was not parsed). One
 * instance per memo row, made when the memo is read: a poll hands out the same objects.
 */
class RememberedEntry implements FeedEntry {
  readonly keyed = true;
  readonly remembered = true;
  constructor(
    readonly id: string,
    readonly url: string | undefined,
    readonly fragment: string | undefined,
  ) {}

  item(): FeedItem {
    throw new Error(`entry ${this.id} was not parsed (remembered from an earlier poll)`);
  }
}

/** Elements remembered per feed at most: feeds list newest first, and the memo is read at every poll. */
export const MAX_REMEMBERED_ENTRIES = 200;

/** The memo's key for one element: 128 bits of the SHA-256 of its text. */
export function chunkHash(xml: string, chunk: ItemChunk): string {
  return sha256Hex(xml.slice(chunk.start, chunk.end)).slice(0, 32);
}

/** What an entry's identity depends on besides its own element. */
export function memoContext(parts: { feedId: string; format: string; baseUrl: string; lang?: string }): string {
  return `${parts.feedId}\n${parts.format}\n${parts.baseUrl}\n${parts.lang ?? ''}`;
}

/** Reads a stored memo; anything not in the shape {@link formatEntryMemo} writes gives `undefined` (no memo). */
export function readEntryMemo(text: string | undefined): EntryMemo | undefined {
  if (!text) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { v, c, e } = (value ?? {}) as { v?: unknown; c?: unknown; e?: unknown };
  if (v !== 1 || typeof c !== 'string' || !Array.isArray(e)) return undefined;
  const entries = new Map<string, RememberedEntry>();
  for (const row of e) {
    if (!Array.isArray(row) || row.length < 2 || !row.every((x) => typeof x === 'string')) return undefined;
    const [hash, id, url, fragment] = row as string[];
    entries.set(hash!, new RememberedEntry(id!, url || undefined, fragment || undefined));
  }
  return { context: c, entries };
}

/** The stored form of a memo: `{"v":1,"c":context,"e":[[hash, id, url?, fragment?], …]}`. */
export function formatEntryMemo(context: string, rows: ReadonlyArray<readonly [string, FeedEntry]>): string {
  const e = rows.map(([hash, entry]) => {
    const row = [hash, entry.id];
    if (entry.url !== undefined || entry.fragment !== undefined) row.push(entry.url ?? '');
    if (entry.fragment !== undefined) row.push(entry.fragment);
    return row;
  });
  return JSON.stringify({ v: 1, c: context, e });
}
