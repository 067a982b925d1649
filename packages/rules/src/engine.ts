import {
  type Classification,
  type ClassifyInput,
  type Evidence,
  SEVERITIES,
  type Severity,
  TOPICS,
  type Topic,
} from '@regwatch/contracts';
import { AhoCorasick } from './aho-corasick.js';
import { extractIdentifiers, IDENTIFIER_CUES } from './identifiers.js';
import { needsAsciiDigit } from './needs-digit.js';
import { createFolder, isWordAt, isWordChar, type Normalizer, normalizerWith, ScratchNormalizer } from './normalize.js';
import { exactHash, formatStoryId, outletSuffixStart, simhashOfNormalized } from './story.js';
import type { ContextSpec, Rules } from './taxonomy.js';

/** Per-call options. */
export interface ClassifyOptions {
  /** The team's own words (company, products, suppliers). They raise severity; they never flag alone. */
  watchTerms?: readonly string[];
}

/** A compiled taxonomy, ready to classify. Immutable and safe to share. */
export interface Engine {
  /** The taxonomy's `version`, copied into every classification as `rulesVersion`. */
  readonly version: string;
  readonly rules: Rules;
  readonly stats: { readonly patterns: number; readonly states: number; readonly compileMs: number };
  classify(input: ClassifyInput, opts?: ClassifyOptions): Classification;
}

type Field = 0 | 1; // 0 = title, 1 = summary
const FIELD_NAMES = ['title', 'summary'] as const;

enum Kind {
  Topic = 0,
  Group = 1,
  Jurisdiction = 2,
  Entity = 3,
  Neutral = 4,
  Pattern = 5,
  Watch = 6,
  /** A word that makes an identifier scanner worth running (`ref` is its cue bit). */
  Cue = 7,
}

/** How one automaton pattern is used: a pattern string can serve several rules. */
interface Use {
  kind: Kind;
  ref: number;
  /** The term's text as written, for evidence. */
  term: string;
  /** `term:<term>` (or `watch:<term>`): the evidence rule, made once at compile time. */
  rule: string;
  left: boolean;
  right: boolean;
  /** For case-sensitive terms: the original form the source text must have (after NFKC). */
  exact: string | undefined;
  /** A prefix term (`smuggl*`): its evidence runs to the end of the word. */
  extend: boolean;
}

interface Hit {
  kind: Kind;
  ref: number;
  term: string;
  /** The evidence rule of a term or pattern hit (`term:…`, `pattern:…`, `watch:…`). */
  rule: string;
  field: Field;
  start: number;
  end: number;
}

/** A context spec with group names resolved; topic refs (`topic:x`) become negative numbers. */
interface Spec {
  groups: number[];
  window: number;
  factor: number;
  except: number[];
  names: string[];
  /** `unless:<names joined by |>`, for evidence. */
  rule: string;
}

interface TermRule {
  key: string; // aggregation key: one entry of one topic counts once, whichever synonym matched
  topic: number;
  weight: number;
  near: Spec[];
  otherwise: number;
  unless: Spec[];
}

interface ComboRule {
  id: string;
  /** `combo:<id>`: its aggregation key and evidence rule. */
  rule: string;
  first: number;
  rest: number[];
  window: number;
  topics: Array<[number, number]>;
  unless: Spec[];
}

interface EntityRule {
  name: string;
  /** `entity:<name>`: its aggregation key and evidence rule. */
  rule: string;
  major: boolean;
  topics: Array<[number, number]>;
  jurisdiction: string | undefined;
}

interface PatternRule {
  id: string;
  /** `pattern:<id>`: its aggregation key and evidence rule. */
  rule: string;
  regex: RegExp;
  /** Every match holds an ASCII digit: skipped on text without one. */
  needsDigit: boolean;
  topics: Array<[number, number]>;
  jurisdiction: string | undefined;
  weight: number;
}

interface Contribution {
  weight: number;
  hit: Hit;
  rule: string;
  partners?: Hit[];
}

const TOPIC_INDEX = new Map<string, number>(TOPICS.map((t, i) => [t, i]));
const MAX_PATTERN_MATCHES = 16;
const WATCH_CACHE_LIMIT = 256;

/** Splits the `*` wildcards off a term: `sanction*` → needs a left boundary only. */
function parseTerm(raw: string): { body: string; left: boolean; right: boolean } {
  const left = !raw.startsWith('*');
  const right = !raw.endsWith('*');
  return { body: raw.replace(/^\*|\*$/g, ''), left, right };
}

/** Suffixes an inner `word*` stands for: enough for English verbs and nouns (cancels, cancelled, cracking). */
const INFLECTIONS = ['', 's', 'es', 'ed', 'd', 'ing', 'led', 'ling', 'ped', 'ping', 'ked', 'king'];

/** Expands inner wildcards (`crack* down`) into every inflected phrase; end wildcards stay for the caller. */
function expandInflections(body: string): string[] {
  let out = [''];
  const parts = body.split(/(\*(?=\s))/);
  for (const part of parts) {
    if (part === '*') out = out.flatMap((prefix) => INFLECTIONS.map((s) => prefix + s));
    else out = out.map((prefix) => prefix + part);
  }
  return out;
}

/**
 * Compiles a taxonomy into an engine: every term, alias, context word and neutralizer goes into one
 * Aho–Corasick automaton; regex patterns (ECCNs, case numbers) are a small extra pass.
 */
export function compileRules(rules: Rules): Engine {
  const t0 = performance.now();
  const charMap = new Map<string, string>();
  const pairs = [...rules.charMap.replace(/\s+/g, '')];
  for (let i = 0; i + 1 < pairs.length; i += 2) charMap.set(pairs[i]!, pairs[i + 1]!);
  const fold = createFolder(charMap);
  const normalize = normalizerWith(fold);

  const patternIndex = new Map<string, number>();
  const patternList: string[] = [];
  const uses: Use[][] = [];
  const addTerm = (raw: string, kind: Kind, ref: number, caseSensitive: boolean): void => {
    const { body: template, left, right } = parseTerm(raw);
    for (const body of expandInflections(template)) addBody(raw, body, left, right, kind, ref, caseSensitive);
  };
  const addBody = (
    raw: string,
    body: string,
    left: boolean,
    right: boolean,
    kind: Kind,
    ref: number,
    caseSensitive: boolean,
  ): void => {
    const norm = normalize(body).text;
    if (norm.length === 0) return;
    let p = patternIndex.get(norm);
    if (p === undefined) {
      p = patternList.length;
      patternIndex.set(norm, p);
      patternList.push(norm);
      uses.push([]);
    }
    // A boundary is only checked where the term itself ends in a word character.
    uses[p]!.push({
      kind,
      ref,
      term: raw,
      rule: `term:${raw}`,
      left: left && isWordChar(norm[0]),
      right: right && isWordChar(norm[norm.length - 1]),
      exact: caseSensitive ? body.normalize('NFKC') : undefined,
      extend: !right && isWordChar(norm[norm.length - 1]),
    });
  };

  // Groups.
  const groupNames = Object.keys(rules.groups);
  const groupIndex = new Map(groupNames.map((g, i) => [g, i]));
  groupNames.forEach((name, gi) => {
    const def = rules.groups[name]!;
    const terms = Array.isArray(def) ? def : def.terms;
    const caseSensitive = !Array.isArray(def) && def.case;
    for (const t of terms) addTerm(t, Kind.Group, gi, caseSensitive);
  });
  const resolveRef = (ref: string): number =>
    ref.startsWith('topic:') ? -1 - (TOPIC_INDEX.get(ref.slice(6)) ?? 0) : (groupIndex.get(ref) ?? 0);
  const resolveSpecs = (specs: ContextSpec[] | undefined): Spec[] =>
    (specs ?? []).map((s) => ({
      groups: s.groups.map(resolveRef),
      window: s.window,
      factor: s.factor,
      except: (s.except ?? []).map(resolveRef),
      names: s.groups,
      rule: `unless:${s.groups.join('|')}`,
    }));
  const topicPairs = (weights: Partial<Record<Topic, number>> | undefined): Array<[number, number]> =>
    Object.entries(weights ?? {}).map(([t, w]) => [TOPIC_INDEX.get(t)!, w as number]);

  // Topic terms: one rule per entry, so synonyms of one entry count once.
  const termRules: TermRule[] = [];
  for (const [topic, def] of Object.entries(rules.topics)) {
    def?.terms.forEach((entry, i) => {
      const ref = termRules.length;
      termRules.push({
        key: `${topic}#${i}`,
        topic: TOPIC_INDEX.get(topic)!,
        weight: entry.weight,
        near: resolveSpecs(entry.near),
        otherwise: entry.otherwise,
        unless: resolveSpecs(entry.unless),
      });
      for (const t of entry.terms ?? [entry.term!]) addTerm(t, Kind.Topic, ref, entry.case);
    });
  }

  const combos: ComboRule[] = rules.combos.map((c) => ({
    id: c.id,
    rule: `combo:${c.id}`,
    first: resolveRef(c.all[0]!),
    rest: c.all.slice(1).map(resolveRef),
    window: c.window,
    topics: topicPairs(c.topics),
    unless: resolveSpecs(c.unless),
  }));

  rules.neutralizers.forEach((n, i) => {
    for (const t of n.terms) addTerm(t, Kind.Neutral, i, false);
  });

  const jurisdictionEntries: Array<{ code: string; weight: number; key: string }> = [];
  for (const [code, entries] of Object.entries(rules.jurisdictions)) {
    entries.forEach((entry, i) => {
      const ref = jurisdictionEntries.length;
      jurisdictionEntries.push({ code, weight: entry.weight, key: `${code}#${i}` });
      for (const t of entry.terms ?? [entry.term!]) addTerm(t, Kind.Jurisdiction, ref, entry.case);
    });
  }

  const entities: EntityRule[] = rules.entities.map((e, i) => {
    for (const a of e.aliases) addTerm(a, Kind.Entity, i, false);
    for (const a of e.caseAliases ?? []) addTerm(a, Kind.Entity, i, true);
    return {
      name: e.name,
      rule: `entity:${e.name}`,
      major: e.major,
      topics: topicPairs(e.topics),
      jurisdiction: e.jurisdiction,
    };
  });

  const patterns: PatternRule[] = rules.patterns.map((p) => ({
    id: p.id,
    rule: `pattern:${p.id}`,
    regex: new RegExp(p.regex, 'gu'),
    needsDigit: needsAsciiDigit(p.regex),
    topics: topicPairs(p.topics),
    jurisdiction: p.jurisdiction,
    weight: p.weight,
  }));

  // Identifier cues ride on the same automaton: the extractor then runs only the scanners whose
  // cue words occur, instead of scanning every field for them itself.
  for (const [bit, terms] of IDENTIFIER_CUES) for (const t of terms) addTerm(t, Kind.Cue, bit, false);

  const automaton = new AhoCorasick(patternList);
  const criticalGroups = rules.settings.criticalGroups.map(resolveRef);
  const watchCache = new Map<string, WatchMatcher>();

  const ctx: CompiledContext = {
    rules,
    normalize,
    fields: [new ScratchNormalizer(fold), new ScratchNormalizer(fold)],
    automaton,
    uses,
    boundaries: commonBoundaries(uses),
    termRules,
    combos,
    jurisdictionEntries,
    entities,
    patterns,
    groupCount: groupNames.length,
    criticalGroups,
    neutralizerRules: rules.neutralizers.map((n) => `neutral:${n.id}`),
    jurisdictionRules: new Map(),
    watchMatcher(terms) {
      const key = terms.join('\u0000');
      let m = watchCache.get(key);
      if (m === undefined) {
        m = compileWatch(terms, normalize);
        if (watchCache.size >= WATCH_CACHE_LIMIT) watchCache.delete(watchCache.keys().next().value as string);
        watchCache.set(key, m);
      }
      return m;
    },
  };
  const compileMs = performance.now() - t0;

  return {
    version: rules.version,
    rules,
    stats: { patterns: patternList.length, states: automaton.size, compileMs },
    classify: (input, opts) => classifyWith(ctx, input, opts),
  };
}

interface WatchMatcher {
  automaton: AhoCorasick;
  uses: Use[][];
  boundaries: Uint8Array;
}

function compileWatch(terms: readonly string[], normalize: Normalizer): WatchMatcher {
  const list: string[] = [];
  const uses: Use[][] = [];
  const seen = new Map<string, number>();
  for (const raw of terms) {
    const { body, left, right } = parseTerm(raw.trim());
    const norm = normalize(body).text;
    if (norm.length < 2) continue;
    let p = seen.get(norm);
    if (p === undefined) {
      p = list.length;
      seen.set(norm, p);
      list.push(norm);
      uses.push([]);
    }
    uses[p]!.push({
      kind: Kind.Watch,
      ref: p,
      term: raw,
      rule: `watch:${raw}`,
      left: left && isWordChar(norm[0]),
      right: right && isWordChar(norm[norm.length - 1]),
      exact: undefined,
      extend: false,
    });
  }
  return { automaton: new AhoCorasick(list), uses, boundaries: commonBoundaries(uses) };
}

interface CompiledContext {
  rules: Rules;
  normalize: Normalizer;
  /** One reusable normalizer per field (title, summary): classify is synchronous, one item at a time. */
  fields: [ScratchNormalizer, ScratchNormalizer];
  automaton: AhoCorasick;
  uses: Use[][];
  boundaries: Uint8Array;
  termRules: TermRule[];
  combos: ComboRule[];
  jurisdictionEntries: Array<{ code: string; weight: number; key: string }>;
  entities: EntityRule[];
  patterns: PatternRule[];
  groupCount: number;
  criticalGroups: number[];
  /** `neutral:<id>` per neutralizer. */
  neutralizerRules: string[];
  /** `jurisdiction:<code>`, made on first use. */
  jurisdictionRules: Map<string, string>;
  watchMatcher(terms: readonly string[]): WatchMatcher;
}

/**
 * The story id from the text already normalized for matching (one normalization per field). Items
 * that differ only in case, width, accents, punctuation or an outlet suffix share it.
 */
function storyIdOf(originals: [string, string], norms: [ScratchNormalizer, ScratchNormalizer]): string {
  const cut = outletSuffixStart(originals[0]);
  const titleLength = norms[0].text.length;
  let titleEnd = titleLength;
  if (cut < originals[0].length) {
    titleEnd = 0;
    // Offsets may be longer than the text (reused buffers): bound by the text.
    while (titleEnd < titleLength && norms[0].starts[titleEnd]! < cut) titleEnd++;
  }
  const h = simhashOfNormalized(norms[0].text.slice(0, titleEnd), norms[1].text);
  return formatStoryId(h ?? exactHash(originals[0], originals[1]));
}

/** Per pattern, the boundaries every use needs (bit 1 left, bit 2 right): checked inside the scan. */
function commonBoundaries(uses: Use[][]): Uint8Array {
  return Uint8Array.from(uses, (list) => {
    let b = 3;
    for (const u of list) b &= (u.left ? 1 : 0) | (u.right ? 2 : 0);
    return b;
  });
}

/** Collects the automaton's matches on one field that pass their boundary and case checks. */
function collectHits(
  matcher: { automaton: AhoCorasick; uses: Use[][]; boundaries: Uint8Array },
  norm: ScratchNormalizer,
  original: string,
  field: Field,
  out: Hit[],
): void {
  const text = norm.text;
  const { uses } = matcher;
  matcher.automaton.scan(
    text,
    (p, start, end) => {
      for (const use of uses[p]!) {
        if (use.left && start > 0 && isWordAt(text, start - 1)) continue;
        if (use.right && end < text.length && isWordAt(text, end)) continue;
        if (use.exact !== undefined) {
          const orig = original.slice(norm.starts[start]!, norm.endOf(end - 1)).normalize('NFKC');
          if (orig !== use.exact) continue;
        }
        // A prefix term's evidence quotes the whole word ("smuggl*" → "smugglers").
        let stop = end;
        if (use.extend) while (stop < text.length && isWordAt(text, stop)) stop++;
        out.push({ kind: use.kind, ref: use.ref, term: use.term, rule: use.rule, field, start, end: stop });
      }
    },
    matcher.boundaries,
    isWordAt,
  );
}

/** `jurisdiction:<code>`, made once per code (codes come from the taxonomy, a few dozen). */
function jurisdictionRule(ctx: CompiledContext, code: string): string {
  let rule = ctx.jurisdictionRules.get(code);
  if (rule === undefined) {
    rule = `jurisdiction:${code}`;
    ctx.jurisdictionRules.set(code, rule);
  }
  return rule;
}

/**
 * Sorts in place, stably, like Array.prototype.sort: by insertion for the few elements an item has
 * (hits of one kind, evidence, topics), where the built-in sort's copy and set-up cost more.
 */
function sortSmall<T>(list: T[], compare: (a: T, b: T) => number): T[] {
  if (list.length > 16) return list.sort(compare);
  for (let i = 1; i < list.length; i++) {
    const x = list[i]!;
    let j = i - 1;
    while (j >= 0 && compare(list[j]!, x) > 0) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = x;
  }
  return list;
}

const overlaps = (a: Hit, b: Hit): boolean => a.field === b.field && a.start < b.end && b.start < a.end;
const gapBetween = (a: Hit, b: Hit): number => Math.max(0, b.start - a.end, a.start - b.end);

/** Drops hits strictly inside a longer hit of the same list ("Trade Representative" inside "U.S. Trade Representative"). */
function dropContained(hits: Hit[]): Hit[] {
  if (hits.length < 2) return hits;
  const sorted = sortSmall(hits, (a, b) => a.field - b.field || a.start - b.start || b.end - a.end);
  const keep: Hit[] = [];
  let field = -1;
  let maxEnd = -1;
  let maxStart = -1;
  for (const h of sorted) {
    if (h.field !== field) {
      field = h.field;
      maxEnd = -1;
      maxStart = -1;
    }
    const contained = maxEnd >= h.end && !(maxStart === h.start && maxEnd === h.end);
    if (!contained) keep.push(h);
    if (h.end > maxEnd) {
      maxEnd = h.end;
      maxStart = h.start;
    }
  }
  return keep;
}

function classifyWith(ctx: CompiledContext, input: ClassifyInput, opts: ClassifyOptions | undefined): Classification {
  const { rules } = ctx;
  const settings = rules.settings;
  const originals: [string, string] = [
    String(input.title ?? '').slice(0, 2000),
    String(input.summary ?? '').slice(0, 20_000),
  ];
  const norms: [ScratchNormalizer, ScratchNormalizer] = [
    ctx.fields[0].run(originals[0]),
    ctx.fields[1].run(originals[1]),
  ];

  // 1. Every match of every term, both fields.
  const raw: Hit[] = [];
  for (const f of [0, 1] as const) {
    collectHits(ctx, norms[f], originals[f], f, raw);
    const { text, hasDigit } = norms[f];
    ctx.patterns.forEach((p, i) => {
      if (p.needsDigit && !hasDigit) return;
      p.regex.lastIndex = 0;
      let count = 0;
      for (let m = p.regex.exec(text); m !== null && count < MAX_PATTERN_MATCHES; m = p.regex.exec(text)) {
        if (m[0].length === 0) {
          p.regex.lastIndex++;
          continue;
        }
        raw.push({
          kind: Kind.Pattern,
          ref: i,
          term: p.id,
          rule: p.rule,
          field: f,
          start: m.index,
          end: m.index + m[0].length,
        });
        count++;
      }
    });
  }

  // 2. Neutralizers cancel the look-alikes inside them ("Immigration and Customs Enforcement").
  const neutral: Hit[] = [];
  for (const h of raw) if (h.kind === Kind.Neutral) neutral.push(h);
  const isNeutralized = (h: Hit): boolean =>
    neutral.length > 0 && h.kind !== Kind.Entity && neutral.some((n) => overlaps(n, h));

  // 3. Bucket by kind; the longest match wins within topic terms, jurisdictions and entities.
  const topicAll: Hit[] = [];
  const jurisdictionAll: Hit[] = [];
  const entityAll: Hit[] = [];
  const patternHits: Hit[] = [];
  const groupHits: Array<Hit[] | undefined> = new Array(ctx.groupCount);
  const cues: [number, number] = [0, 0];
  for (const h of raw) {
    if (h.kind === Kind.Cue) {
      cues[h.field] |= h.ref;
      continue;
    }
    if (h.kind === Kind.Neutral || isNeutralized(h)) continue;
    switch (h.kind) {
      case Kind.Topic:
        topicAll.push(h);
        break;
      case Kind.Jurisdiction:
        jurisdictionAll.push(h);
        break;
      case Kind.Entity:
        entityAll.push(h);
        break;
      case Kind.Pattern:
        patternHits.push(h);
        break;
      case Kind.Group: {
        const list = groupHits[h.ref];
        if (list === undefined) groupHits[h.ref] = [h];
        else list.push(h);
        break;
      }
    }
  }
  const topicHits = dropContained(topicAll);
  const jurisdictionHits = dropContained(jurisdictionAll);
  const entityHits = dropContained(entityAll);
  const topicRaw: Hit[][] = [[], [], [], [], [], []];
  for (const h of topicHits) topicRaw[ctx.termRules[h.ref]!.topic]!.push(h);
  const NONE: Hit[] = [];
  const hitsOf = (ref: number): Hit[] => (ref < 0 ? topicRaw[-1 - ref]! : (groupHits[ref] ?? NONE));

  /** A hit of `ref` near `anchor` (same field within `window`, or anywhere when 0), not inside the anchor itself. */
  const findNear = (ref: number, anchor: Hit, window: number): Hit | undefined => {
    for (const x of hitsOf(ref)) {
      if (x.field === anchor.field && x.start >= anchor.start && x.end <= anchor.end) continue;
      if (window === 0 || (x.field === anchor.field && gapBetween(anchor, x) <= window)) return x;
    }
    return undefined;
  };
  const specMatch = (spec: Spec, anchor: Hit): Hit | undefined => {
    for (const g of spec.groups) {
      const x = findNear(g, anchor, spec.window);
      if (x !== undefined) return x;
    }
    return undefined;
  };
  const evidence: Evidence[] = [];
  const priorities: number[] = [];
  const pushEvidence = (
    h: Hit,
    kind: Evidence['kind'],
    rule: string,
    weight: number,
    target: string | undefined,
    prio: number,
  ): void => {
    const norm = norms[h.field];
    const start = norm.starts[h.start]!;
    const end = norm.endOf(h.end - 1);
    const ev: Evidence = {
      field: FIELD_NAMES[h.field],
      start,
      end,
      text: originals[h.field].slice(start, end),
      rule,
      kind,
      weight: Math.round(weight * 1000) / 1000,
    };
    if (target !== undefined) ev.target = target;
    evidence.push(ev);
    priorities.push(prio);
  };
  /** Applies negative contexts; returns the remaining factor and records what cut it. */
  const applyUnless = (specs: Spec[], anchor: Hit, weight: number, topic: string): number => {
    let f = 1;
    for (const spec of specs) {
      const neg = specMatch(spec, anchor);
      if (neg === undefined) continue;
      if (spec.except.some((g) => findNear(g, anchor, spec.window) !== undefined)) continue;
      pushEvidence(neg, 'negative', spec.rule, -weight * f * (1 - spec.factor), topic, 1);
      f *= spec.factor;
    }
    return f;
  };

  // 4. Topic contributions: each term entry, combo, entity and pattern counts once (its best occurrence).
  // Made on a topic's first contribution: most items contribute to one topic or none.
  const contributions: Array<Map<string, Contribution> | undefined> = new Array(TOPICS.length);
  const contribute = (topic: number, key: string, c: Contribution): void => {
    let m = contributions[topic];
    if (m === undefined) {
      m = new Map();
      contributions[topic] = m;
    }
    const prev = m.get(key);
    if (prev === undefined || c.weight > prev.weight) m.set(key, c);
  };
  const boost = (h: Hit): number => (h.field === 0 ? settings.titleBoost : 1);

  for (const h of topicHits) {
    const rule = ctx.termRules[h.ref]!;
    const topic = TOPICS[rule.topic]!;
    let w = rule.weight * boost(h);
    if (rule.near.length > 0) {
      let best = -1;
      for (const spec of rule.near) if (spec.factor > best && specMatch(spec, h) !== undefined) best = spec.factor;
      w *= best >= 0 ? best : rule.otherwise;
    }
    if (rule.unless.length > 0 && w > 0) w *= applyUnless(rule.unless, h, w, topic);
    if (w > 0) contribute(rule.topic, rule.key, { weight: w, hit: h, rule: h.rule });
  }

  for (const combo of ctx.combos) {
    const { first, rest } = combo;
    let best: { hit: Hit; partners: Hit[]; factor: number } | undefined;
    for (const anchor of hitsOf(first)) {
      const partners: Hit[] = [];
      for (const ref of rest) {
        const x = findNear(ref, anchor, combo.window);
        if (x === undefined) break;
        partners.push(x);
      }
      if (partners.length !== rest.length) continue;
      const factor = boost(anchor);
      if (best === undefined || factor > best.factor) best = { hit: anchor, partners, factor };
    }
    if (best === undefined) continue;
    for (const [topic, weight] of combo.topics) {
      let w = weight * best.factor;
      if (combo.unless.length > 0) w *= applyUnless(combo.unless, best.hit, w, TOPICS[topic]!);
      if (w > 0)
        contribute(topic, combo.rule, {
          weight: w,
          hit: best.hit,
          rule: combo.rule,
          partners: best.partners,
        });
    }
  }

  const entityNames: string[] = [];
  const seenEntities = new Set<number>();
  let hasMajor = false;
  const jurisdictionScores = new Map<string, Map<string, { weight: number; hit: Hit }>>();
  const addJurisdiction = (code: string, key: string, weight: number, hit: Hit): void => {
    let m = jurisdictionScores.get(code);
    if (m === undefined) {
      m = new Map();
      jurisdictionScores.set(code, m);
    }
    const prev = m.get(key);
    if (prev === undefined || weight > prev.weight) m.set(key, { weight, hit });
  };
  for (const h of entityHits) {
    const e = ctx.entities[h.ref]!;
    if (!seenEntities.has(h.ref)) {
      seenEntities.add(h.ref);
      entityNames.push(e.name);
      pushEvidence(h, 'entity', e.rule, 0, e.name, 3);
    }
    if (e.major) hasMajor = true;
    for (const [topic, weight] of e.topics)
      contribute(topic, e.rule, { weight: weight * boost(h), hit: h, rule: e.rule });
    if (e.jurisdiction !== undefined) addJurisdiction(e.jurisdiction, e.rule, 1, h);
  }
  for (const h of patternHits) {
    const p = ctx.patterns[h.ref]!;
    for (const [topic, weight] of p.topics)
      contribute(topic, p.rule, { weight: weight * boost(h), hit: h, rule: p.rule });
    if (p.jurisdiction !== undefined) addJurisdiction(p.jurisdiction, p.rule, p.weight, h);
  }
  for (const h of jurisdictionHits) {
    const j = ctx.jurisdictionEntries[h.ref]!;
    addJurisdiction(j.code, j.key, j.weight, h);
  }

  // 5. Scores. A topic's score is the sum of its contributions; the item is flagged when the best
  // topic reaches the threshold. `score` maps the best topic onto 0..1 so that the threshold is 0.5.
  // Scores in a Float64Array and topics picked by index: the scores were a plain array whose elements
  // were small integers for one item and doubles for the next, read through [topic, score] tuples,
  // and the optimized classifier could fall into a loop of thousands of deoptimizations on them
  // (the bench then measured about half its usual rate, run after run).
  const topicScores = new Float64Array(TOPICS.length);
  for (let i = 0; i < TOPICS.length; i++) {
    let s = 0;
    const m = contributions[i];
    if (m !== undefined) for (const c of m.values()) s += c.weight;
    topicScores[i] = s;
  }
  let bestScore = 0;
  for (let i = 0; i < TOPICS.length; i++) bestScore = Math.max(bestScore, topicScores[i]!);
  const flagged = bestScore >= settings.flagThreshold;
  const score = Math.min(1, Math.max(0, 1 - 0.5 ** (bestScore / settings.flagThreshold)));
  const topics: Topic[] = [];
  if (flagged) {
    const picked: number[] = [];
    for (let i = 0; i < TOPICS.length; i++) {
      const s = topicScores[i]!;
      if (s >= settings.topicThreshold || s === bestScore) picked.push(i);
    }
    // A stable sort: equal scores keep the order of TOPICS.
    sortSmall(picked, (x, y) => topicScores[y]! - topicScores[x]!);
    for (const i of picked) topics.push(TOPICS[i]!);
  }
  for (let i = 0; i < TOPICS.length; i++) {
    const m = contributions[i];
    if (m === undefined) continue;
    for (const c of m.values()) {
      pushEvidence(c.hit, 'topic', c.rule, c.weight, TOPICS[i], 0);
      for (const p of c.partners ?? []) pushEvidence(p, 'context', c.rule, 0, TOPICS[i], 2);
    }
  }

  const jurisdictions: string[] = [];
  for (const [code, m] of jurisdictionScores) {
    let total = 0;
    let best: { weight: number; hit: Hit } | undefined;
    for (const v of m.values()) {
      total += v.weight;
      if (best === undefined || v.weight > best.weight) best = v;
    }
    if (total >= settings.jurisdictionThreshold) {
      jurisdictions.push(code);
      if (best) pushEvidence(best.hit, 'jurisdiction', jurisdictionRule(ctx, code), total, code, 2);
    }
  }
  for (const n of neutral) pushEvidence(n, 'negative', ctx.neutralizerRules[n.ref]!, 0, undefined, 1);

  // 6. Severity (see SEVERITIES in contracts):
  //   info     – not flagged;
  //   notice   – flagged, the best topic below `highScore` (one strong term, or weak ones combined);
  //   high     – flagged with strong evidence (several independent rules agree);
  //   critical – high, naming a major entity (a watched chip, a top chipmaker or toolmaker) together with
  //              a new action (ban, new rule, seizure, inspection, entity listing) from `criticalGroups`.
  // A team watch term raises a flagged item one step; it never flags an item by itself.
  let severity: Severity = 'info';
  if (flagged) {
    severity = bestScore >= settings.highScore ? 'high' : 'notice';
    const hasAction = ctx.criticalGroups.some((g) => hitsOf(g).length > 0);
    if (severity === 'high' && hasMajor && hasAction) severity = 'critical';
  }
  const watch = opts?.watchTerms;
  if (watch !== undefined && watch.length > 0) {
    const matcher = ctx.watchMatcher(watch);
    const watchHits: Hit[] = [];
    for (const f of [0, 1] as const) collectHits(matcher, norms[f], originals[f], f, watchHits);
    const seen = new Set<number>();
    for (const h of watchHits) {
      if (seen.has(h.ref)) continue;
      seen.add(h.ref);
      pushEvidence(h, 'watch', h.rule, 0, h.term, 0);
    }
    if (flagged && watchHits.length > 0) {
      severity = SEVERITIES[Math.min(SEVERITIES.length - 1, SEVERITIES.indexOf(severity) + 1)]!;
    }
  }

  // Most useful evidence first when capping (topics, negatives, watch terms), then in reading order.
  let kept = evidence;
  if (evidence.length > settings.maxEvidence) {
    const order = evidence.map((_, i) => i);
    order.sort((a, b) => priorities[a]! - priorities[b]! || evidence[b]!.weight - evidence[a]!.weight);
    kept = order.slice(0, settings.maxEvidence).map((i) => evidence[i]!);
  }
  sortSmall(kept, (a, b) => (a.field === b.field ? a.start - b.start || a.end - b.end : a.field === 'title' ? -1 : 1));

  return {
    flagged,
    score: Math.round(score * 10_000) / 10_000,
    severity,
    topics,
    jurisdictions: sortSmall(jurisdictions, (a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    entities: entityNames,
    evidence: kept,
    rulesVersion: rules.version,
    identifiers: extractIdentifiers(originals[0], originals[1], input.url ? { url: input.url, cues } : { cues }),
    storyId: storyIdOf(originals, norms),
  };
}
