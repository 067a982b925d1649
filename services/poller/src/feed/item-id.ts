import { createHash } from 'node:crypto';
import { canonicalUrl } from './canonical-url.js';

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
  const digest = createHash('sha256').update(`${fields.feedId}\u0000${key}`).digest('hex');
  return `i${digest.slice(0, 24)}`;
}
