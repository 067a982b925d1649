import * as crypto from 'node:crypto';
import { canonicalUrl } from './canonical-url.js';

/**
 * The SHA-256 of `text` (UTF-8) in hex. Every entry of every poll is hashed twice (its id and its
 * URL member), and the one-shot `crypto.hash` costs about a third of a Hash object for input this
 * short; it arrived in Node 20.12, so older Node 20 (package.json allows 20.11) keeps createHash.
 */
export const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');

/**
 * A stable item id: `i` + 24 hex characters of a SHA-256, safe as a BullMQ job id and Redis key
 * part (no `:`, never all digits). Identity comes from the first of, in order: the guid (Atom
 * id, JSON Feed id), the canonical link, or the title plus date. The feed id is part of the hash
 * because guids are only unique within a feed ("1", "2", … are common).
 */
export function itemId(fields: {
  guid?: string;
  link?: string;
  /** The link's fragment when it names a place in the page; kept apart from `link`, which is canonicalized. */
  fragment?: string;
  title?: string;
  date?: string;
  feedId: string;
}): string {
  const guid = fields.guid?.trim();
  const link = fields.link?.trim();
  let key: string;
  if (guid) {
    key = `guid\u0000${guid}`;
  } else if (link) {
    key = `link\u0000${canonicalUrl(link) ?? link}`;
    // Entries of one page told apart only by `#anchor` are different items.
    if (fields.fragment) key += `#${fields.fragment}`;
  } else {
    const title = (fields.title ?? '').replace(/\s+/g, ' ').trim();
    key = `title\u0000${title}\u0000${(fields.date ?? '').trim()}`;
  }
  return `i${sha256Hex(`${fields.feedId}\u0000${key}`).slice(0, 24)}`;
}
