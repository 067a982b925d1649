/** Where one item element of a feed document starts and ends (`end` is past its closing `>`). */
export interface ItemChunk {
  start: number;
  end: number;
}

/**
 * The item elements of a prepared feed document (see `prepareXml`), in document order: what
 * rss-parser reads as the feed's items, found by a tag scanner without building anything.
 *
 * Only the plain layouts rss-parser reads are recognized: `<item>` children of the first
 * `<channel>` of `<rss>`, `<item>` children of an RSS 1.0 root, `<entry>` children of `<feed>`.
 * Anything else gives `undefined`, and the caller parses the whole document as usual: an item
 * element in another place or self-closed, a second channel, a tag that does not close, a doctype
 * or markup the scanner does not follow. Comments, CDATA sections, processing instructions and
 * quoted attribute values (which may hold `>`) are skipped, so an `<item>` written inside them is
 * not taken for one.
 */
export function findItemChunks(xml: string, root: string): ItemChunk[] | undefined {
  const local = root.includes(':') ? root.slice(root.indexOf(':') + 1) : root;
  const layout =
    root === 'rss'
      ? { item: 'item', parents: ['rss', 'channel'] }
      : root === 'feed'
        ? { item: 'entry', parents: ['feed'] }
        : local === 'RDF'
          ? { item: 'item', parents: [root] }
          : undefined;
  if (layout === undefined) return undefined;
  const chunks: ItemChunk[] = [];
  const open: string[] = [];
  let channels = 0;
  /** Depth of the item element being read (its start at `itemStart`), or -1 outside items. */
  let itemDepth = -1;
  let itemStart = 0;
  let i = 0;
  for (;;) {
    const lt = xml.indexOf('<', i);
    if (lt === -1) break;
    const next = xml.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      let end: number;
      if (xml.startsWith('<!--', lt)) end = endOf(xml, '-->', lt + 4);
      else if (xml.startsWith('<![CDATA[', lt)) end = endOf(xml, ']]>', lt + 9);
      else return undefined; // a doctype or declaration in the body: not a layout to take apart
      if (end === -1) return undefined;
      i = end;
      continue;
    }
    if (next === 0x3f /* ? */) {
      const end = endOf(xml, '?>', lt + 2);
      if (end === -1) return undefined;
      i = end;
      continue;
    }
    const gt = tagEnd(xml, lt + 1);
    if (gt === -1) return undefined;
    if (next === 0x2f /* / */) {
      const name = xml.slice(lt + 2, gt).trim();
      if (open.pop() !== name) return undefined;
      if (open.length === itemDepth) {
        chunks.push({ start: itemStart, end: gt + 1 });
        itemDepth = -1;
      }
      i = gt + 1;
      continue;
    }
    let nameEnd = lt + 1;
    while (nameEnd < gt && !NAME_ENDS.has(xml.charCodeAt(nameEnd))) nameEnd++;
    if (nameEnd === lt + 1) return undefined;
    const name = xml.slice(lt + 1, nameEnd);
    const selfClosing = xml.charCodeAt(gt - 1) === 0x2f;
    if (name === layout.item) {
      if (itemDepth !== -1 || selfClosing || !sameNames(open, layout.parents)) return undefined;
      itemDepth = open.length;
      itemStart = lt;
    } else if (name === 'channel' && root === 'rss' && open.length === 1 && ++channels > 1) {
      return undefined; // rss-parser reads the first channel only
    }
    if (!selfClosing) open.push(name);
    i = gt + 1;
  }
  return open.length === 0 ? chunks : undefined;
}

/** Characters that end a tag name: whitespace and `/` (a `>` ends the tag itself). */
const NAME_ENDS: ReadonlySet<number> = new Set([0x20, 0x09, 0x0a, 0x0d, 0x2f]);

/** The index just past `terminator` from `from`, or -1. */
function endOf(xml: string, terminator: string, from: number): number {
  const at = xml.indexOf(terminator, from);
  return at === -1 ? -1 : at + terminator.length;
}

/** The `>` that ends the tag whose name starts at `from`, skipping quoted attribute values; -1 if none. */
function tagEnd(xml: string, from: number): number {
  let quote = 0;
  for (let i = from; i < xml.length; i++) {
    const c = xml.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) {
      quote = c;
    } else if (c === 0x3e) {
      return i;
    } else if (c === 0x3c) {
      return -1; // `<` inside a tag: malformed, left to the parser
    }
  }
  return -1;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, k) => name === b[k]);
}

/**
 * The document without the chunks whose index `cut` holds: what the parser then reads. The text
 * between elements is kept.
 */
export function withoutChunks(xml: string, chunks: readonly ItemChunk[], cut: ReadonlySet<number>): string {
  let out = '';
  let last = 0;
  for (let k = 0; k < chunks.length; k++) {
    if (!cut.has(k)) continue;
    out += xml.slice(last, chunks[k]!.start);
    last = chunks[k]!.end;
  }
  return out + xml.slice(last);
}
