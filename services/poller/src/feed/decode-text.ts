import iconv from 'iconv-lite';

/** Where the character set of a document came from, for diagnostics and tests. */
export type CharsetSource =
  | 'bom'
  | 'content-type'
  | 'xml-declaration'
  | 'html-meta'
  | 'sniffed-utf-8'
  | 'fallback-windows-1252';

export interface DecodedDocument {
  text: string;
  /** The decoder used (an iconv-lite name, or "utf-8"). */
  charset: string;
  source: CharsetSource;
}

/**
 * Labels mapped the way browsers do (WHATWG Encoding Standard): ISO-8859-1 and US-ASCII are
 * decoded as Windows-1252, GB2312/GBK as GB18030, Shift_JIS as Windows-31J, EUC-KR as
 * Windows-949; each is a superset, so a mislabelled document still decodes.
 */
const LABELS: Record<string, string> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'unicode-1-1-utf-8': 'utf-8',
  'iso-8859-1': 'windows-1252',
  'iso8859-1': 'windows-1252',
  iso_8859_1: 'windows-1252',
  'iso_8859-1': 'windows-1252',
  latin1: 'windows-1252',
  l1: 'windows-1252',
  'us-ascii': 'windows-1252',
  ascii: 'windows-1252',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  'x-cp1252': 'windows-1252',
  gb2312: 'gb18030',
  gbk: 'gb18030',
  'x-gbk': 'gb18030',
  gb18030: 'gb18030',
  cp936: 'gb18030',
  'euc-cn': 'gb18030',
  csgb2312: 'gb18030',
  chinese: 'gb18030',
  big5: 'big5hkscs',
  'big5-hkscs': 'big5hkscs',
  'cn-big5': 'big5hkscs',
  'x-x-big5': 'big5hkscs',
  csbig5: 'big5hkscs',
  shift_jis: 'cp932',
  'shift-jis': 'cp932',
  sjis: 'cp932',
  'x-sjis': 'cp932',
  ms_kanji: 'cp932',
  'windows-31j': 'cp932',
  csshiftjis: 'cp932',
  'euc-kr': 'cp949',
  'ks_c_5601-1987': 'cp949',
  'windows-949': 'cp949',
  cseuckr: 'cp949',
  korean: 'cp949',
  'utf-16': 'utf-16le',
  'utf-16le': 'utf-16le',
  'utf-16be': 'utf-16be',
};

/** Maps a charset label to a decoder name, or `undefined` when no decoder knows it. */
export function resolveCharset(label: string | undefined): string | undefined {
  if (label === undefined) return undefined;
  const key = label
    .trim()
    .toLowerCase()
    .replace(/^["']|["']$/g, '');
  if (key === '') return undefined;
  const known = LABELS[key];
  if (known !== undefined) return known;
  return iconv.encodingExists(key) ? key : undefined;
}

/** The `charset` parameter of a Content-Type header. */
export function charsetFromContentType(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*("?)([^";,\s]+)\1/i.exec(contentType ?? '');
  return match?.[2];
}

function detectBom(body: Buffer): { charset: string; length: number } | undefined {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return { charset: 'utf-8', length: 3 };
  if (body[0] === 0xff && body[1] === 0xfe) return { charset: 'utf-16le', length: 2 };
  if (body[0] === 0xfe && body[1] === 0xff) return { charset: 'utf-16be', length: 2 };
  return undefined;
}

/** The `encoding` of an XML declaration, read from the ASCII-compatible head of the bytes. */
export function encodingFromXmlDeclaration(body: Buffer): string | undefined {
  const head = body
    .subarray(0, 1024)
    .toString('latin1')
    .replace(/^\ufeff|^\u00ef\u00bb\u00bf/, '');
  const match = /^\s*<\?xml\s[^>]*?\bencoding\s*=\s*["']\s*([A-Za-z0-9._:-]+)\s*["']/.exec(head);
  return match?.[1];
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

function isValidUtf8(bytes: Buffer): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function decodeWith(charset: string, bytes: Buffer): string {
  if (charset === 'utf-8') return lenientUtf8.decode(bytes);
  return iconv.decode(bytes, charset, { stripBOM: true });
}

/**
 * Decodes a feed's bytes to a string. Order: a byte-order mark (unambiguous, and XML 1.0
 * Appendix F and the WHATWG sniffing rules both let it win), then the Content-Type charset, then
 * the XML declaration; without any of them, UTF-8 if the bytes are valid UTF-8, else
 * Windows-1252 (the uol.com.br fixture is Latin-1 with no declaration at all).
 *
 * One deliberate exception to "header beats declaration": when exactly one of the two says
 * UTF-8, the bytes decide. Servers that stamp `charset=ISO-8859-1` on every XML file serving a
 * UTF-8 feed are common, and valid multi-byte UTF-8 almost never occurs in real Latin-1 text.
 * @param forJson JSON has no declaration (RFC 8259: UTF-8), so only the BOM and header count.
 */
export function decodeDocument(body: Buffer, contentType?: string, forJson = false): DecodedDocument {
  const bom = detectBom(body);
  if (bom !== undefined) {
    return { text: decodeWith(bom.charset, body.subarray(bom.length)), charset: bom.charset, source: 'bom' };
  }
  const fromHeader = resolveCharset(charsetFromContentType(contentType));
  let fromDeclaration = forJson ? undefined : resolveCharset(encodingFromXmlDeclaration(body));
  // A declaration we could read as ASCII is not UTF-16, whatever it claims.
  if (fromDeclaration?.startsWith('utf-16')) fromDeclaration = undefined;
  if (fromHeader !== undefined && fromDeclaration !== undefined && fromHeader !== fromDeclaration) {
    const utf8Source: CharsetSource = fromHeader === 'utf-8' ? 'content-type' : 'xml-declaration';
    const otherSource: CharsetSource = fromHeader === 'utf-8' ? 'xml-declaration' : 'content-type';
    const other = fromHeader === 'utf-8' ? fromDeclaration : fromHeader;
    if (fromHeader === 'utf-8' || fromDeclaration === 'utf-8') {
      return isValidUtf8(body)
        ? { text: decodeWith('utf-8', body), charset: 'utf-8', source: utf8Source }
        : { text: decodeWith(other, body), charset: other, source: otherSource };
    }
  }
  if (fromHeader !== undefined)
    return { text: decodeWith(fromHeader, body), charset: fromHeader, source: 'content-type' };
  if (fromDeclaration !== undefined) {
    return { text: decodeWith(fromDeclaration, body), charset: fromDeclaration, source: 'xml-declaration' };
  }
  if (isValidUtf8(body)) return { text: decodeWith('utf-8', body), charset: 'utf-8', source: 'sniffed-utf-8' };
  return { text: decodeWith('windows-1252', body), charset: 'windows-1252', source: 'fallback-windows-1252' };
}

/**
 * The charset an HTML document declares in its first 1024 bytes (the HTML spec's prescan,
 * simplified): `<meta charset="gbk">` or `<meta http-equiv="Content-Type" content="text/html;
 * charset=gb2312">`, outside comments. The bytes are read as Latin-1: every label is ASCII, and
 * the encodings a page can declare this way are ASCII-compatible.
 */
export function charsetFromHtmlMeta(body: Buffer): string | undefined {
  const head = body
    .subarray(0, 1024)
    .toString('latin1')
    .replace(/<!--[\s\S]*?(?:-->|$)/g, '');
  for (const tag of head.match(/<meta\b[^>]*>/gi) ?? []) {
    const direct = /\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)/i.exec(tag);
    if (direct && !/\bcontent\s*=/i.test(tag.slice(0, direct.index))) return direct[1];
    const content = /\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
    const value = content?.[1] ?? content?.[2] ?? content?.[3];
    if (value !== undefined && /\bhttp-equiv\s*=\s*["']?content-type/i.test(tag)) {
      const m = /charset\s*=\s*["']?([A-Za-z0-9._:-]+)/i.exec(value);
      if (m) return m[1];
    }
  }
  return undefined;
}

/**
 * Decodes an HTML page: BOM, then the Content-Type charset, then the `<meta>` prescan, then
 * UTF-8 if the bytes are valid UTF-8, else Windows-1252 — the order of the HTML spec's encoding
 * sniffing. As for feeds, when exactly one of header and `<meta>` says UTF-8 the bytes decide:
 * a server's blanket `charset=utf-8` over a GBK page (or the reverse) is a common mistake, and
 * GBK text is almost never valid UTF-8. A declared UTF-16 is ignored (the spec says the same).
 */
export function decodeHtmlDocument(body: Buffer, contentType?: string): DecodedDocument {
  const bom = detectBom(body);
  if (bom !== undefined) {
    return { text: decodeWith(bom.charset, body.subarray(bom.length)), charset: bom.charset, source: 'bom' };
  }
  const fromHeader = resolveCharset(charsetFromContentType(contentType));
  let fromMeta = resolveCharset(charsetFromHtmlMeta(body));
  if (fromMeta?.startsWith('utf-16')) fromMeta = 'utf-8';
  if (fromHeader !== undefined && fromMeta !== undefined && fromHeader !== fromMeta) {
    if (fromHeader === 'utf-8' || fromMeta === 'utf-8') {
      const other = fromHeader === 'utf-8' ? fromMeta : fromHeader;
      return isValidUtf8(body)
        ? {
            text: decodeWith('utf-8', body),
            charset: 'utf-8',
            source: fromHeader === 'utf-8' ? 'content-type' : 'html-meta',
          }
        : {
            text: decodeWith(other, body),
            charset: other,
            source: fromHeader === 'utf-8' ? 'html-meta' : 'content-type',
          };
    }
  }
  if (fromHeader !== undefined)
    return { text: decodeWith(fromHeader, body), charset: fromHeader, source: 'content-type' };
  if (fromMeta !== undefined) return { text: decodeWith(fromMeta, body), charset: fromMeta, source: 'html-meta' };
  if (isValidUtf8(body)) return { text: decodeWith('utf-8', body), charset: 'utf-8', source: 'sniffed-utf-8' };
  return { text: decodeWith('windows-1252', body), charset: 'windows-1252', source: 'fallback-windows-1252' };
}
