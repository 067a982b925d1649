import { formatCfr, formatHsDigits, type Identifier, type IdentifierKind, normalizeEccn } from '@regwatch/contracts';

/** At most this many identifiers per item: a tariff schedule pasted into a summary must not bloat the alert. */
export const MAX_IDENTIFIERS = 32;

export interface ExtractOptions {
  /** The item's URL: on federalregister.gov a bare `2025-12345` is a document number. */
  url?: string;
  /**
   * Cue bits per field ([title, summary]) that the classifier's automaton found from
   * {@link IDENTIFIER_CUES}; given, the extractor skips its own cue scan.
   */
  cues?: readonly [number, number];
}

type FieldName = 'title' | 'summary';

// Precision first: every ambiguous form needs a context word. An ECCN's shape is specific enough on
// its own (digit, group letter A–E written in upper case, three digits whose first is a control
// regime: 0–3, 5, 6 or 9), so "A100", "H20", "RTX 6000D", "COVID-19" and "1e10" never match; the
// rest (HS codes, CFR parts, FR document numbers, dates) only count after words that introduce them.
// Boundaries against Latin letters and digits only: Chinese and Japanese write "将3A090物项" with no space.
const NOT_BEFORE = String.raw`(?<![\p{Script=Latin}\p{N}_\-.])`;
const NOT_AFTER = String.raw`(?![\p{Script=Latin}\p{N}])`;

const ECCN_RE = new RegExp(
  `${NOT_BEFORE}([0-9])([A-E]|x(?=[56]))([0-35-69][0-9]{2})((?:\\.[a-zA-Z](?:\\.(?:[0-9]{1,2}|[a-z])){0,3})?)${NOT_AFTER}`,
  'gu',
);
const EAR99_RE = new RegExp(`${NOT_BEFORE}EAR ?99${NOT_AFTER}`, 'gu');

/** Words that introduce a tariff code, in the feeds' languages. */
const HS_CONTEXT = [
  String.raw`\bHTSUSA?\b`,
  String.raw`\bHTSA?\b`,
  String.raw`\bH\.?S\.?(?:[- ]?codes?)?(?![\p{L}\p{N}])`,
  String.raw`\bharmoni[sz]ed (?:tariff schedule|system)(?: of the united states)?(?: \(HTSUSA?\))?`,
  String.raw`\b(?:sub)?headings?\b`,
  String.raw`\btariff (?:codes?|items?|lines?|numbers?|(?:sub)?headings?|classifications?|positions?)\b`,
  String.raw`\bcommodity codes?\b`,
  String.raw`\b(?:CN|KN|NC|TARIC|NCM|SH)[- ]codes?\b`,
  String.raw`\bcodes? (?:SH|NC|NCM|TARIC)\b`,
  String.raw`\bTARIC\b`,
  String.raw`\bNCM\b`,
  String.raw`\bpositions? tarifaires?\b`,
  String.raw`\bnomenclature combinée\b`,
  String.raw`\bfracci(?:ón|ones|on) arancelarias?\b`,
  String.raw`\bpartidas? arancelarias?\b`,
  String.raw`\b(?:Zolltarifnummer|Warennummer|Zolltarifposition)n?\b`,
  '税则号列',
  '税则号',
  '税号',
  '商品编码',
  '商品编号',
  'HS编码',
  '海关编码',
  '税则',
  'HSコード',
  '関税分類番号',
  '統計品目番号',
  'HS ?코드',
  '세번',
  '품목번호',
].join('|');
/** A code as written: `8542`, `8542.31`, `8542.31.00`, `8471.50.0150`, `8542.3100` (China), `8542 31 90` (EU), `85423100`. */
const HS_TOKEN = String.raw`(?<![\d.,$€£¥])(\d{4}\.\d{4}(?:\.\d{2})?|\d{4}(?: \d{2}){1,3}(?! ?\d)|\d{4}(?:\.\d{2}(?:\.\d{2}(?:\d{2})?(?:\.\d{2})?)?)?|\d{6}|\d{8}|\d{10})(?![\d%]|[.,]\d)`;
// The code must follow the context and some filler ("code", "no.", ":", "为"). Candidates are runs of
// four digits; the context is a lookbehind tried only there (sticky at the candidate): scanning for
// the context words at every position (a case-insensitive alternation of thirty words) cost 40 µs
// per item, this about one.
const HS_CANDIDATE_RE = /\d{4}/g;
/**
 * A cheap, case-sensitive superset of the context words, tested on the 60 characters before a
 * candidate: most four-digit runs are years in running text, and the lookbehind costs more.
 */
const HS_GATE_RE =
  /[Hh]\.?[Ss]|[Hh][Tt][Ss]|eading|EADING|ariff|ARIFF|ommodity|OMMODITY|armoni|ARMONI|TARIC|[Tt]aric|NCM|[Cc]ode|CODE|arifaire|omenclature|rancelari|olltarif|arennummer|税|编码|编号|コード|番号|코드|세번|품목/;
const HS_WINDOW = 60;
const HS_AT_RE = new RegExp(
  `(?<=(?:${HS_CONTEXT})(?:[\\s:：#(]|nos?\\.|numbers?\\b|codes?\\b|(?:sub)?headings?\\b|为|是|為){0,6})${HS_TOKEN}`,
  'iuy',
);
const HS_MORE_RE = new RegExp(String.raw`\s*(?:[,;、/]|and|or|und|et|y|和|及|或|与|與)\s*` + HS_TOKEN, 'uy');
const HS_EDITION_RE = /\s*(?:edition|version|nomenclature|amendments?|revision|版)/iy;

const CFR_RE =
  /(?<![\p{L}\p{N}])(\d{1,2}) ?(?:CFR|C\. ?F\. ?R\.?)(?: ?,)? ?(?:(?:§§?|[Pp]arts?|[Ss]ections?|[Ss]ec\.) ?)?(\d{1,4})(?:\.(\d{1,5}))?(?![\p{N}])/gu;
// A list continues the same title: "15 CFR parts 734 and 744", "15 CFR 744.21, 744.22 and 744.23".
// Only three-digit parts, and never the volume of a following "90 FR 12345".
const CFR_MORE_RE =
  /(?: ?, ?(?:and |or )?| (?:and|or|&|through) )(?:(?:§§?|parts?) ?)?(\d{3})(?:\.(\d{1,5}))?(?![\p{N}]|\.\d| ?(?:FR|CFR|C\.F\.R|Fed\.))/uy;
/** `§ 744.23`: the EAR's sections (parts 730–774) need no title; other bare sections are left alone. */
const SECTION_RE = /§§? ?(7[3-7]\d)\.(\d{1,5})(?![\p{N}])/gu;
/** `part 744`, `parts 734 and 744`: EAR parts, only where the item speaks of the EAR. */
const PART_RE = /(?<![\p{L}\p{N}])[Pp]arts? (7[3-7]\d)(?![\p{N}])/gu;
const PART_CUE_RE = /[Pp]arts? 7[3-7]\d/;
const PART_MORE_RE = / ?(?:,|and|or|&) ?(7[3-7]\d)(?![\p{N}])/uy;
const EAR_CONTEXT_RE =
  /(?<![\p{L}\p{N}])(?:EAR|Export Administration Regulations|15 C\.? ?F\.? ?R\.?|Bureau of Industry and Security|BIS)(?![\p{L}\p{N}])/u;

const FR_CITATION_RE = /(?<![\p{L}\p{N}])(\d{1,3}) (?:FR|Fed\. ?Reg\.) (\d{1,6})(?![\p{L}\p{N}])/gu;
const FR_DOC_RE =
  /(?:\bFR Doc\.?(?: No\.?)?|\bDocument (?:Number|No\.?)|\bdocument number|文件编号)(?: ?[:：#]| is| was)? ?((?:19|20)\d{2}-\d{5})(?![\p{N}])/giu;
const FR_DOC_CUE_RE = /Doc|DOC|ocument [Nn]|文件编号/;
const FR_BARE_DOC_RE = /(?<![\p{L}\p{N}\-./])((?:19|20)\d{2}-\d{5})(?![\p{L}\p{N}]|-\d)/gu;

const MONTH = String.raw`(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?`;
const DATE_SRC = [
  String.raw`\d{4}-\d{1,2}-\d{1,2}(?!\d)`,
  String.raw`\d{4}/\d{1,2}/\d{1,2}(?!\d)`,
  String.raw`\d{4} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日`,
  String.raw`${MONTH} \d{1,2}(?:st|nd|rd|th)?,? \d{4}`,
  String.raw`\d{1,2}(?:st|nd|rd|th)? ${MONTH},? \d{4}`,
].join('|');
const CJK_DATE_SRC = String.raw`\d{4} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日`;

// English phrases are tried only where a cue word starts (sticky regexes at the cue's position):
// scanning every position with five case-insensitive phrase regexes cost about 3 µs each per item.
const EN_DATE_CUE_RE =
  /[Ee]ffective|EFFECTIVE|[Tt]ak(?:es?|en) effect|[Tt]ook effect|into force|INTO FORCE|[Cc]omments?|COMMENTS?|[Ss]ubmit|SUBMIT/g;
const EN_EFFECTIVE_RES = [
  new RegExp(
    `(?:effective(?: date)?|takes? effect|taken effect|took effect|into force)(?:(?: ?[:：,])| on| as of| from| beginning| starting| is| was| will be| of){0,3} ?(${DATE_SRC})`,
    'iuy',
  ),
];
const EN_COMMENT_RES = [
  new RegExp(
    String.raw`\bcomments?(?: [\p{L}\p{N},'’-]+){0,6}? (?:must|should|shall) be (?:received|submitted|filed)(?: (?:by|on or before|no later than|before|not later than))?(?: ?[:：])? ?(${DATE_SRC})`,
    'iuy',
  ),
  new RegExp(String.raw`\bcomments? (?:are )?due(?: (?:by|on))?(?: ?[:：])? ?(${DATE_SRC})`, 'iuy'),
  new RegExp(
    String.raw`\bcomment (?:period|deadline)(?: (?:closes|ends|expires|is))?(?: (?:on|by))?(?: ?[:：])? ?(${DATE_SRC})`,
    'iuy',
  ),
  new RegExp(
    String.raw`\bsubmit (?:written |public )?comments (?:by|on or before|no later than|before) (${DATE_SRC})`,
    'iuy',
  ),
];
const CJK_EFFECTIVE_RE = new RegExp(
  `(${CJK_DATE_SRC}) ?(?:起|开始|開始|から|より|に)? ?(?:施行|实施|實施|生效|执行|執行|実施)`,
  'gu',
);
const CJK_COMMENT_RES = [
  new RegExp(
    String.raw`(?:意见|評論|评论|意見)[^。\n]{0,12}?(?:截止|截至)(?:日期|时间|時間)?(?:为|是|至|到|：|:)? ?(${CJK_DATE_SRC})`,
    'gu',
  ),
  new RegExp(String.raw`于 ?(${CJK_DATE_SRC}) ?前[^。\n]{0,20}?(?:反馈|提交|提出|反映)[^。\n]{0,10}?意见`, 'gu'),
];

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

function isoDate(y: number, m: number, d: number): string | undefined {
  if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 || d > 31) return undefined;
  const t = new Date(Date.UTC(y, m - 1, d));
  if (t.getUTCMonth() !== m - 1) return undefined; // 31 April, 30 February
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** `January 15, 2025`, `15 Jan. 2025`, `2025-01-15`, `2025/1/15`, `2025年1月15日` → `2025-01-15`; undefined when not a real date. */
export function parseDateText(text: string): string | undefined {
  let m = /^(\d{4}) ?[-/年] ?(\d{1,2}) ?[-/月] ?(\d{1,2})/.exec(text);
  if (m) return isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^([a-z]{3})[a-z]*\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})$/i.exec(text);
  if (m) {
    const month = MONTHS[m[1]!.toLowerCase()];
    return month ? isoDate(Number(m[3]), month, Number(m[2])) : undefined;
  }
  m = /^(\d{1,2})(?:st|nd|rd|th)? ([a-z]{3})[a-z]*\.?,? (\d{4})$/i.exec(text);
  if (m) {
    const month = MONTHS[m[2]!.toLowerCase()];
    return month ? isoDate(Number(m[3]), month, Number(m[1])) : undefined;
  }
  return undefined;
}

/** A four-digit code that is a year (HS headings 19xx stop at 1905, 20xx at 2009). */
function isYearLike(digits: string): boolean {
  if (digits.length !== 4) return false;
  const n = Number(digits);
  return (n >= 1906 && n <= 1999) || (n >= 2010 && n <= 2099);
}

function hsValue(token: string): string | undefined {
  const digits = token.replace(/[. ]/g, '');
  if (digits.length !== 4 && digits.length !== 6 && digits.length !== 8 && digits.length !== 10) return undefined;
  const chapter = Number(digits.slice(0, 2));
  if (chapter < 1 || chapter > 97 || chapter === 77) return undefined;
  if (!token.includes('.') && isYearLike(digits)) return undefined;
  return formatHsDigits(digits);
}

class Collector {
  readonly found: Identifier[] = [];
  // Made on the first find: most items name no identifier, and classify runs for every item.
  private seen: Set<string> | undefined;

  add(kind: IdentifierKind, value: string, field: FieldName, text: string, start: number, end: number): void {
    const key = `${kind}:${value}`;
    this.seen ??= new Set();
    if (this.seen.has(key) || this.found.length >= MAX_IDENTIFIERS) return;
    this.seen.add(key);
    this.found.push({ kind, value, text: text.slice(start, end), field, start, end });
  }
}

function scanEccn(text: string, field: FieldName, out: Collector): void {
  ECCN_RE.lastIndex = 0;
  for (let m = ECCN_RE.exec(text); m !== null; m = ECCN_RE.exec(text)) {
    out.add('eccn', normalizeEccn(m[1]!, m[2]!, m[3]!, m[4]!), field, text, m.index, m.index + m[0].length);
  }
  if (text.includes('EAR')) {
    EAR99_RE.lastIndex = 0;
    for (let m = EAR99_RE.exec(text); m !== null; m = EAR99_RE.exec(text)) {
      out.add('eccn', 'EAR99', field, text, m.index, m.index + m[0].length);
    }
  }
}

function scanHs(text: string, field: FieldName, out: Collector): void {
  HS_CANDIDATE_RE.lastIndex = 0;
  for (let c = HS_CANDIDATE_RE.exec(text); c !== null; c = HS_CANDIDATE_RE.exec(text)) {
    let m: RegExpExecArray | null = null;
    if (HS_GATE_RE.test(text.slice(Math.max(0, c.index - HS_WINDOW), c.index))) {
      HS_AT_RE.lastIndex = c.index;
      m = HS_AT_RE.exec(text);
    }
    if (m === null) {
      // Skip the rest of this digit run: a code starts where a run starts.
      let k = c.index + 4;
      while (k < text.length && text.charCodeAt(k) >= 48 && text.charCodeAt(k) <= 57) k++;
      HS_CANDIDATE_RE.lastIndex = k;
      continue;
    }
    let token = m[1]!;
    let end = m.index + m[0].length;
    let start = end - token.length;
    HS_EDITION_RE.lastIndex = end;
    if (HS_EDITION_RE.test(text)) {
      HS_CANDIDATE_RE.lastIndex = end;
      continue; // "HS 2007 edition", "HS 2022 nomenclature"
    }
    for (;;) {
      const value = hsValue(token);
      if (value !== undefined) out.add('hs', value, field, text, start, end);
      HS_MORE_RE.lastIndex = end;
      const more = HS_MORE_RE.exec(text);
      if (more === null) break;
      token = more[1]!;
      end = more.index + more[0].length;
      start = end - token.length;
    }
    HS_CANDIDATE_RE.lastIndex = end;
  }
}

function scanCfr(text: string, field: FieldName, out: Collector, hasEarContext: () => boolean): void {
  if (text.includes('CFR') || text.includes('C.F.R') || text.includes('C. F. R')) {
    CFR_RE.lastIndex = 0;
    for (let m = CFR_RE.exec(text); m !== null; m = CFR_RE.exec(text)) {
      const title = m[1]!;
      out.add('cfr', formatCfr(title, m[2]!, m[3]), field, text, m.index, m.index + m[0].length);
      // "15 CFR parts 734 and 744", "15 CFR 744.21, 744.22 and 744.23": the same title continues.
      let end = m.index + m[0].length;
      for (let k = 0; k < 20; k++) {
        CFR_MORE_RE.lastIndex = end;
        const more = CFR_MORE_RE.exec(text);
        if (more === null) break;
        const numStart = more.index + more[0].lastIndexOf(more[1]!);
        end = more.index + more[0].length;
        out.add('cfr', formatCfr(title, more[1]!, more[2]), field, text, numStart, end);
      }
      CFR_RE.lastIndex = end;
    }
  }
  if (text.includes('§')) {
    SECTION_RE.lastIndex = 0;
    for (let m = SECTION_RE.exec(text); m !== null; m = SECTION_RE.exec(text)) {
      if (Number(m[1]) > 774) continue;
      out.add('cfr', formatCfr('15', m[1]!, m[2]), field, text, m.index, m.index + m[0].length);
    }
  }
  if (PART_CUE_RE.test(text) && hasEarContext()) {
    PART_RE.lastIndex = 0;
    for (let m = PART_RE.exec(text); m !== null; m = PART_RE.exec(text)) {
      const addPart = (part: string, start: number, end: number) => {
        if (Number(part) <= 774) out.add('cfr', formatCfr('15', part), field, text, start, end);
      };
      addPart(m[1]!, m.index, m.index + m[0].length);
      let end = m.index + m[0].length;
      for (let k = 0; k < 20; k++) {
        PART_MORE_RE.lastIndex = end;
        const more = PART_MORE_RE.exec(text);
        if (more === null) break;
        end = more.index + more[0].length;
        addPart(more[1]!, end - more[1]!.length, end);
      }
      PART_RE.lastIndex = end;
    }
  }
}

function scanFederalRegister(text: string, field: FieldName, out: Collector, isFrSource: boolean): void {
  if (text.includes(' FR ') || text.includes('Fed. Reg') || text.includes('Fed.Reg')) {
    FR_CITATION_RE.lastIndex = 0;
    for (let m = FR_CITATION_RE.exec(text); m !== null; m = FR_CITATION_RE.exec(text)) {
      if (Number(m[1]) === 0) continue;
      out.add('fr_citation', `${Number(m[1])} FR ${Number(m[2])}`, field, text, m.index, m.index + m[0].length);
    }
  }
  const re = isFrSource ? FR_BARE_DOC_RE : FR_DOC_RE;
  if (!isFrSource && !FR_DOC_CUE_RE.test(text)) return;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const end = m.index + m[0].length;
    out.add('fr_doc', m[1]!, field, text, end - m[1]!.length, end);
  }
}

function addDate(kind: IdentifierKind, m: RegExpExecArray, field: FieldName, text: string, out: Collector): void {
  const value = parseDateText(m[1]!);
  if (value === undefined) return;
  const start = m.index + m[0].lastIndexOf(m[1]!);
  out.add(kind, value, field, text, start, start + m[1]!.length);
}

function scanDates(text: string, field: FieldName, out: Collector, cues: number): void {
  EN_DATE_CUE_RE.lastIndex = (cues & CUE_EN_DATE) !== 0 ? 0 : text.length;
  for (let cue = EN_DATE_CUE_RE.exec(text); cue !== null; cue = EN_DATE_CUE_RE.exec(text)) {
    const c = cue[0][0]!.toLowerCase();
    const isComment = c === 'c' || c === 's';
    for (const re of isComment ? EN_COMMENT_RES : EN_EFFECTIVE_RES) {
      re.lastIndex = cue.index;
      const m = re.exec(text);
      if (m !== null) addDate(isComment ? 'comment_deadline' : 'effective_date', m, field, text, out);
    }
  }
  if ((cues & CUE_CJK_EFFECTIVE) !== 0) {
    CJK_EFFECTIVE_RE.lastIndex = 0;
    for (let m = CJK_EFFECTIVE_RE.exec(text); m !== null; m = CJK_EFFECTIVE_RE.exec(text)) {
      addDate('effective_date', m, field, text, out);
    }
  }
  if ((cues & CUE_CJK_COMMENT) !== 0) {
    for (const re of CJK_COMMENT_RES) {
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) addDate('comment_deadline', m, field, text, out);
    }
  }
}

// One pass over the field finds which scanners can match at all; only those run. Inside the
// classifier a dozen separate scans per field cost about 6 µs per item (2 µs when timed alone: the
// automaton's tables crowd the caches); with the cue pass the common item (a few years, no cue)
// costs one scan and a short look before each four-digit run.
const CUE_ECCN = 1;
const CUE_DIGITS = 2;
const CUE_CFR = 4;
const CUE_FR_CITATION = 8;
const CUE_FR_DOC = 16;
const CUE_EN_DATE = 32;
const CUE_CJK_EFFECTIVE = 64;
const CUE_CJK_COMMENT = 128;
/** An HS context word (only from {@link IDENTIFIER_CUES}; the own scan uses four-digit runs instead). */
const CUE_HS = 256;

/**
 * Words that make a scanner worth running, for the classifier to put in its Aho–Corasick automaton
 * (which already reads every character of the normalized, lower-cased text): `*x*` anywhere, `x`
 * as a whole word, `x*` at a word start. Every list is a superset of what its scanner needs, so
 * the results are the same as with the extractor's own cue scan (a test checks it).
 */
export const IDENTIFIER_CUES: ReadonlyArray<readonly [number, readonly string[]]> = [
  [CUE_ECCN, ['*ear99*', '*ear 99*']],
  [CUE_CFR, ['*cfr*', '*c.f.r*', '*c. f. r*', '*§*', '*part 7*', '*parts 7*']],
  [CUE_FR_CITATION, ['* fr *', '*fed. reg*', '*fed.reg*']],
  [CUE_FR_DOC, ['*fr doc*', '*document n*', '*文件编号*']],
  [CUE_EN_DATE, ['*effect*', '*force*', '*comment*', '*submit*']],
  [CUE_CJK_EFFECTIVE, ['*施行*', '*实施*', '*實施*', '*生效*', '*执行*', '*執行*', '*実施*']],
  [CUE_CJK_COMMENT, ['*意见*', '*意見*', '*评论*', '*評論*']],
  [
    CUE_HS,
    [
      'hs',
      'h.s*',
      'hts*',
      'harmoni*',
      '*heading*',
      '*tariff*',
      '*commodity*',
      'taric*',
      'ncm',
      '*code*',
      '*tarifaire*',
      '*nomenclature*',
      '*arancelari*',
      '*zolltarif*',
      '*warennummer*',
      '*税*',
      '*编码*',
      '*编号*',
      '*コード*',
      '*番号*',
      '*코드*',
      '*세번*',
      '*품목*',
    ],
  ],
];
/** What the automaton cannot see: ECCN shapes (digit, letter, digit) in the original text. */
const ECCN_CUE_RE = /\d[A-Ex]\d/;
const CUE_RE =
  /(\d[A-Ex]\d|EAR ?99)|(\d{4})|(CFR|C\. ?F\. ?R|§|[Pp]arts? 7[3-7]\d)|( FR \d|Fed\. ?Reg)|(Doc|DOC|ocument [Nn]|文件编号)|(ffect|FFECT|force|FORCE|omment|OMMENT|ubmit|UBMIT)|(施行|实施|實施|生效|执行|執行|実施)|(意见|意見|评论|評論)/g;

/**
 * Which scanners can match in the field, in one regex pass; every cue is a superset of what its
 * scanner needs. (A hand-written character loop was slower: 6.5 µs per item against 2.5.)
 */
function cuesOf(text: string): number {
  let cues = 0;
  CUE_RE.lastIndex = 0;
  for (let m = CUE_RE.exec(text); m !== null; m = CUE_RE.exec(text)) {
    for (let g = 1; g <= 8; g++) {
      if (m[g] !== undefined) {
        cues |= 1 << (g - 1);
        break;
      }
    }
  }
  return cues;
}

function scanField(
  text: string,
  field: FieldName,
  out: Collector,
  hasEarContext: () => boolean,
  isFrSource: boolean,
  given: number | undefined,
): void {
  if (text.length === 0) return;
  const cues = given === undefined ? cuesOf(text) : given | (ECCN_CUE_RE.test(text) ? CUE_ECCN : 0);
  if (cues === 0 && !isFrSource) return;
  if ((cues & CUE_ECCN) !== 0) scanEccn(text, field, out);
  if ((cues & (CUE_DIGITS | CUE_HS)) !== 0) scanHs(text, field, out);
  if ((cues & CUE_CFR) !== 0) scanCfr(text, field, out, hasEarContext);
  if ((cues & (CUE_FR_CITATION | CUE_FR_DOC)) !== 0 || isFrSource) scanFederalRegister(text, field, out, isFrSource);
  if ((cues & (CUE_EN_DATE | CUE_CJK_EFFECTIVE | CUE_CJK_COMMENT)) !== 0) scanDates(text, field, out, cues);
}

function isFederalRegisterUrl(url: string | undefined): boolean {
  // Every item has a URL: parse only the few that can be on the Federal Register.
  if (url === undefined || !url.includes('federalregister.gov')) return false;
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host === 'federalregister.gov' || host.endsWith('.federalregister.gov');
  } catch {
    return false;
  }
}

/**
 * Extracts trade-control identifiers from an item's title and summary: ECCNs, HS/HTS codes, CFR
 * citations, Federal Register document numbers and citations, effective dates and comment
 * deadlines (see `IdentifierSchema` in contracts). One entry per kind and value (its first
 * occurrence, title first), at most {@link MAX_IDENTIFIERS}; offsets are UTF-16 into the field.
 */
export function extractIdentifiers(title: string, summary: string, opts?: ExtractOptions): Identifier[] {
  const out = new Collector();
  const isFrSource = isFederalRegisterUrl(opts?.url);
  let earContext: boolean | undefined;
  const hasEarContext = () => {
    earContext ??= EAR_CONTEXT_RE.test(title) || EAR_CONTEXT_RE.test(summary);
    return earContext;
  };
  scanField(title, 'title', out, hasEarContext, isFrSource, opts?.cues?.[0]);
  scanField(summary, 'summary', out, hasEarContext, isFrSource, opts?.cues?.[1]);
  if (out.found.length < 2) return out.found;
  return out.found.sort((a, b) =>
    a.field === b.field ? a.start - b.start || a.end - b.end : a.field === 'title' ? -1 : 1,
  );
}
