import { z } from 'zod';

/**
 * Trade-control identifiers the classifier extracts from an item's title and summary:
 * - `eccn`: Export Control Classification Number, `3A090`, `4A090.a`, `5A002.a.1`, `9x515`, `EAR99`;
 * - `hs`: Harmonized System / HTS / CN tariff code, dotted `8542`, `8542.31`, `8542.31.00`, `8471.50.0150`;
 * - `cfr`: Code of Federal Regulations part or section, `15 CFR 744`, `15 CFR 744.21`;
 * - `fr_doc`: Federal Register document number, `2025-12345`;
 * - `fr_citation`: Federal Register citation, `90 FR 12345`;
 * - `effective_date`, `comment_deadline`: ISO `YYYY-MM-DD`, when the text states them.
 */
export const IDENTIFIER_KINDS = [
  'eccn',
  'hs',
  'cfr',
  'fr_doc',
  'fr_citation',
  'effective_date',
  'comment_deadline',
] as const;
export const IdentifierKindSchema = z.enum(IDENTIFIER_KINDS);
export type IdentifierKind = z.infer<typeof IdentifierKindSchema>;

/** The kinds a subscription or an alert query can filter on (dates are facts, not things to watch). */
export const FILTERABLE_IDENTIFIER_KINDS = ['eccn', 'hs', 'cfr', 'fr_doc', 'fr_citation'] as const;

/** An identifier as an alert carries it: kind and normalized value only, to keep stored alerts small. */
export const AlertIdentifierSchema = z.object({
  kind: IdentifierKindSchema,
  /** Normalized: `3A090.a`, `8542.31`, `15 CFR 744.21`, `2025-12345`, `90 FR 12345`, `2025-02-01`. */
  value: z.string().max(64),
});
export type AlertIdentifier = z.infer<typeof AlertIdentifierSchema>;

/** One identifier found by the classifier, with where it is (evidence-like UTF-16 offsets). */
export const IdentifierSchema = AlertIdentifierSchema.extend({
  /** As written in the text: `text === field.slice(start, end)`. */
  text: z.string(),
  field: z.enum(['title', 'summary']),
  start: z.number().int().min(0),
  end: z.number().int().min(0),
});
export type Identifier = z.infer<typeof IdentifierSchema>;

const ECCN_RE = /^([0-9])([A-Ea-e]|x|X)([0-9]{3})((?:\.[A-Za-z0-9]{1,3}){0,4})$/;
const HS_RE = /^(?:(?:HS|HTS|HTSUS|CN)\s*(?:code\s*)?)?(\d{4}(?:\.?\d{2}(?:\.?\d{2}(?:\d{2})?)?)?)$/i;
const CFR_RE = /^(\d{1,2})\s*(?:CFR|C\.\s?F\.\s?R\.?)\s*(?:§+\s*|parts?\s+|section\s+)?(\d{1,4})(?:\.(\d{1,5}))?$/i;
const PART_RE = /^(?:§+\s*|parts?\s+)(7[3-7]\d)(?:\.(\d{1,5}))?$/i;
const FR_DOC_RE = /^(?:FR\s*Doc\.?\s*)?((?:19|20)\d{2}-\d{5})$/i;
const FR_CITATION_RE = /^(\d{1,3})\s*(?:FR|Fed\.?\s*Reg\.?)\s*(\d{1,6})$/i;

/** `3a090.A.1` → `3A090.a.1`: category digit, upper-case group letter, lower-case sub-paragraph letters. */
export function normalizeEccn(category: string, group: string, num: string, subs: string): string {
  const g = group === 'x' || group === 'X' ? 'x' : group.toUpperCase();
  return `${category}${g}${num}${subs.toLowerCase()}`;
}

/** Digits of an HS code (4, 6, 8 or 10) in the dotted layout `8542`, `8542.31`, `8542.31.00`, `8471.50.0150`. */
export function formatHsDigits(digits: string): string {
  if (digits.length <= 4) return digits;
  return `${digits.slice(0, 4)}.${digits.slice(4, 6)}${digits.length > 6 ? `.${digits.slice(6)}` : ''}`;
}

/** `15 CFR 744` or `15 CFR 744.21`. */
export function formatCfr(title: string, part: string, section?: string): string {
  return `${Number(title)} CFR ${Number(part)}${section ? `.${section}` : ''}`;
}

/**
 * Reads what a user writes in a subscription's `identifiers` or `?identifier=`: `3A090`, `4A090.a`,
 * `EAR99`, `9x515`, `8542`, `HS 8542.31`, `HTS 8471.50.0150`, `15 CFR 744`, `15 C.F.R. § 744.21`,
 * `part 744` (an EAR part: 15 CFR), `2025-12345`, `FR Doc. 2025-12345`, `90 FR 12345`; or `kind:value`
 * with a kind of {@link FILTERABLE_IDENTIFIER_KINDS}. Returns the normalized identifier, or an error message.
 */
export function parseIdentifierQuery(input: string): AlertIdentifier | { error: string } {
  const raw = input.trim().replace(/\s+/g, ' ');
  const colon = /^(eccn|hs|cfr|fr_doc|fr_citation):\s*(.+)$/i.exec(raw);
  if (colon) {
    const kind = colon[1]!.toLowerCase();
    const parsed = parseIdentifierQuery(colon[2]!);
    if ('error' in parsed) return parsed;
    if (parsed.kind !== kind) return { error: `"${colon[2]}" is not a ${kind} identifier` };
    return parsed;
  }
  if (/^EAR\s?99$/i.test(raw)) return { kind: 'eccn', value: 'EAR99' };
  let m = ECCN_RE.exec(raw);
  if (m && (m[2] !== 'x' && m[2] !== 'X' ? true : m[3]![0] === '5' || m[3]![0] === '6')) {
    return { kind: 'eccn', value: normalizeEccn(m[1]!, m[2]!, m[3]!, m[4]!) };
  }
  m = HS_RE.exec(raw);
  if (m) {
    const digits = m[1]!.replace(/\./g, '');
    const n = Number(digits.slice(0, 4));
    // HS chapters run 01–97; headings of chapters 19 and 20 stop at 1905 and 2009, so 1906–1999 and
    // 2010–2099 are years, not codes.
    if ((n >= 1906 && n <= 1999) || (n >= 2010 && n <= 2099) || n < 100 || n >= 9800) {
      return { error: `"${m[1]}" is not an HS code: chapters run 01–97 (and 2025 is a year)` };
    }
    if (digits.length === 4 || digits.length === 6 || digits.length === 8 || digits.length === 10) {
      return { kind: 'hs', value: formatHsDigits(digits) };
    }
  }
  m = CFR_RE.exec(raw);
  if (m) return { kind: 'cfr', value: formatCfr(m[1]!, m[2]!, m[3]) };
  m = PART_RE.exec(raw);
  if (m) return { kind: 'cfr', value: formatCfr('15', m[1]!, m[2]) };
  m = FR_DOC_RE.exec(raw);
  if (m) return { kind: 'fr_doc', value: m[1]! };
  m = FR_CITATION_RE.exec(raw);
  if (m) return { kind: 'fr_citation', value: `${Number(m[1])} FR ${Number(m[2])}` };
  return {
    error:
      'not a trade-control identifier: expected an ECCN (3A090, 4A090.a, EAR99), an HS code (8542, 8542.31, HTS 8471.50.0150), a CFR citation (15 CFR 744, 15 CFR 744.21), a Federal Register document number (2025-12345) or citation (90 FR 12345)',
  };
}

/**
 * The key an identifier is matched by: `eccn:3A090.a`, `hs:854231` (digits, so `8542.31` and
 * `HS 854231` agree), `cfr:15 CFR 744.21`, `fr_doc:2025-12345`, `fr_citation:90 FR 12345`.
 */
export function identifierKey(id: AlertIdentifier): string {
  return id.kind === 'hs' ? `hs:${id.value.replace(/\./g, '')}` : `${id.kind}:${id.value}`;
}

/**
 * The keys of an identifier and of everything above it in its hierarchy, so that watching the
 * parent matches the child: `3A090.a.1` → `3A090.a.1`, `3A090.a`, `3A090` (and `3x090` is not a
 * family: only 5xx and 6xx ECCNs have the `9x515` spelling, `9A515` → `9x515`); HS `8542.31.00` →
 * `85423100`, `854231`, `8542`; `15 CFR 744.21` → itself and `15 CFR 744`. Dates and FR numbers
 * stand alone.
 */
export function identifierAncestorKeys(id: AlertIdentifier): string[] {
  switch (id.kind) {
    case 'eccn': {
      const out = [`eccn:${id.value}`];
      const parts = id.value.split('.');
      for (let k = parts.length - 1; k >= 1; k--) out.push(`eccn:${parts.slice(0, k).join('.')}`);
      const base = parts[0]!;
      if (/^[0-9][A-E][56][0-9]{2}$/.test(base)) out.push(`eccn:${base[0]}x${base.slice(2)}`);
      return out;
    }
    case 'hs': {
      const digits = id.value.replace(/\./g, '');
      const out: string[] = [];
      for (let len = digits.length; len >= 4; len -= 2) out.push(`hs:${digits.slice(0, len)}`);
      return out;
    }
    case 'cfr': {
      const dot = id.value.indexOf('.');
      return dot < 0 ? [`cfr:${id.value}`] : [`cfr:${id.value}`, `cfr:${id.value.slice(0, dot)}`];
    }
    default:
      return [identifierKey(id)];
  }
}
