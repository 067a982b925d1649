import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Classification, formatIssues, JurisdictionSchema, TopicSchema } from '@regwatch/contracts';
import { z } from 'zod';
import type { Engine } from './engine.js';
import { RULES_ERROR_CODES, RulesError } from './errors.js';

/** One line of a labelled classifier set (see shared/fixtures/classifier/README.md). */
export const LabelledItemSchema = z.object({
  id: z.string().min(1),
  title: z.string(),
  summary: z.string().default(''),
  url: z.string().optional(),
  published: z.string().nullable().optional(),
  lang: z.string().optional(),
  label: z.enum(['flag', 'ignore']),
  topics: z.array(TopicSchema).default([]),
  jurisdictions: z.array(JurisdictionSchema).default([]),
  entities: z.array(z.string()).default([]),
  hard_negative: z.boolean().optional(),
  title_source: z.string().optional(),
  label_note: z.string().optional(),
  text: z.string().optional(),
});
export type LabelledItem = z.infer<typeof LabelledItemSchema>;

/**
 * Reads a labelled JSONL file. Blank lines are skipped; every bad line is reported
 * (`dev.jsonl:12: topics[0]: Invalid option…`) in one {@link RulesError}.
 */
export function readLabelledJsonl(path: string): LabelledItem[] {
  const text = readFileSync(path, 'utf8');
  const items: LabelledItem[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path}:${i + 1}`;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (err) {
      problems.push(`${where}: not JSON: ${(err as Error).message}`);
      return;
    }
    const parsed = LabelledItemSchema.safeParse(data);
    if (parsed.success) items.push(parsed.data);
    else for (const issue of formatIssues(parsed.error)) problems.push(`${where}: ${issue}`);
  });
  if (problems.length > 0) {
    throw new RulesError(RULES_ERROR_CODES.labelledInvalid, `${path}: ${problems.length} bad line(s)`, problems);
  }
  return items;
}

export interface Prf {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface LabelScores {
  /** Micro-averaged over every (item, label) pair. */
  micro: Prf;
  perLabel: Record<string, Prf>;
}

export interface EvalMiss {
  id: string;
  kind: 'false_negative' | 'false_positive';
  title: string;
  expectedTopics: string[];
  predicted: Pick<Classification, 'score' | 'severity' | 'topics' | 'jurisdictions' | 'evidence'>;
}

export interface LabelMismatch {
  id: string;
  title: string;
  field: 'topics' | 'jurisdictions';
  expected: string[];
  predicted: string[];
}

export interface EvalReport {
  items: number;
  rulesVersion: string;
  /** Precision/recall of `flagged` against `label === 'flag'`, with the confusion counts. */
  flag: Prf & { tn: number };
  /**
   * Topic and jurisdiction scores over all items: gold labels are those of `flag` items, predicted
   * labels count only when the item is flagged, so a false alarm costs label precision too.
   */
  topics: LabelScores;
  jurisdictions: LabelScores;
  misses: EvalMiss[];
  mismatches: LabelMismatch[];
}

function prf(tp: number, fp: number, fn: number): Prf {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { tp, fp, fn, precision, recall, f1 };
}

function scoreLabels(pairs: Array<{ gold: readonly string[]; predicted: readonly string[] }>): LabelScores {
  const counts = new Map<string, { tp: number; fp: number; fn: number }>();
  const bump = (label: string, k: 'tp' | 'fp' | 'fn'): void => {
    let c = counts.get(label);
    if (c === undefined) {
      c = { tp: 0, fp: 0, fn: 0 };
      counts.set(label, c);
    }
    c[k]++;
  };
  for (const { gold, predicted } of pairs) {
    const g = new Set(gold);
    const p = new Set(predicted);
    for (const l of p) bump(l, g.has(l) ? 'tp' : 'fp');
    for (const l of g) if (!p.has(l)) bump(l, 'fn');
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const perLabel: Record<string, Prf> = {};
  for (const [label, c] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    perLabel[label] = prf(c.tp, c.fp, c.fn);
    tp += c.tp;
    fp += c.fp;
    fn += c.fn;
  }
  return { micro: prf(tp, fp, fn), perLabel };
}

/** Classifies every labelled item and scores the result. */
export function evaluate(items: readonly LabelledItem[], engine: Engine): EvalReport {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  const topicPairs: Array<{ gold: string[]; predicted: string[] }> = [];
  const jurisdictionPairs: Array<{ gold: string[]; predicted: string[] }> = [];
  const misses: EvalMiss[] = [];
  const mismatches: LabelMismatch[] = [];
  for (const item of items) {
    const c = engine.classify({ title: item.title, summary: item.summary, url: item.url, lang: item.lang });
    const gold = item.label === 'flag';
    if (gold && c.flagged) tp++;
    else if (!gold && c.flagged) fp++;
    else if (gold) fn++;
    else tn++;
    const predictedTopics = c.flagged ? c.topics : [];
    const predictedJurisdictions = c.flagged ? c.jurisdictions : [];
    topicPairs.push({ gold: item.topics, predicted: predictedTopics });
    jurisdictionPairs.push({ gold: item.jurisdictions, predicted: predictedJurisdictions });
    if (gold !== c.flagged) {
      misses.push({
        id: item.id,
        kind: gold ? 'false_negative' : 'false_positive',
        title: item.title,
        expectedTopics: item.topics,
        predicted: {
          score: c.score,
          severity: c.severity,
          topics: c.topics,
          jurisdictions: c.jurisdictions,
          evidence: c.evidence,
        },
      });
    } else if (gold) {
      const same = (a: readonly string[], b: readonly string[]) =>
        a.length === b.length && a.every((x) => b.includes(x));
      if (!same(item.topics, predictedTopics)) {
        mismatches.push({
          id: item.id,
          title: item.title,
          field: 'topics',
          expected: item.topics,
          predicted: predictedTopics,
        });
      }
      if (!same(item.jurisdictions, predictedJurisdictions)) {
        mismatches.push({
          id: item.id,
          title: item.title,
          field: 'jurisdictions',
          expected: item.jurisdictions,
          predicted: predictedJurisdictions,
        });
      }
    }
  }
  return {
    items: items.length,
    rulesVersion: engine.version,
    flag: { ...prf(tp, fp, fn), tn },
    topics: scoreLabels(topicPairs),
    jurisdictions: scoreLabels(jurisdictionPairs),
    misses,
    mismatches,
  };
}

const pct = (x: number): string => x.toFixed(3);
const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function formatLabels(name: string, scores: LabelScores): string[] {
  const lines = [
    `${name} (micro over all items; predicted labels count only when flagged): P ${pct(scores.micro.precision)}  R ${pct(scores.micro.recall)}  F1 ${pct(scores.micro.f1)}`,
  ];
  for (const [label, s] of Object.entries(scores.perLabel)) {
    lines.push(
      `  ${label.padEnd(24)} P ${pct(s.precision)}  R ${pct(s.recall)}  F1 ${pct(s.f1)}  (tp ${s.tp}, fp ${s.fp}, fn ${s.fn})`,
    );
  }
  return lines;
}

/** A plain-text report: headline numbers, per-label tables, then every miss with its evidence. */
export function formatReport(report: EvalReport): string {
  const f = report.flag;
  const lines = [
    `rules ${report.rulesVersion}, ${report.items} items`,
    `flagged: P ${pct(f.precision)}  R ${pct(f.recall)}  F1 ${pct(f.f1)}  (tp ${f.tp}, fp ${f.fp}, fn ${f.fn}, tn ${f.tn})`,
    ...formatLabels('topics', report.topics),
    ...formatLabels('jurisdictions', report.jurisdictions),
    `misses (${report.misses.length}):`,
  ];
  for (const m of report.misses) {
    lines.push(
      `  ${m.kind === 'false_negative' ? 'FN' : 'FP'} ${m.id} score ${m.predicted.score} [${m.expectedTopics.join(', ')}] ${clip(m.title, 100)}`,
    );
    for (const e of m.predicted.evidence.filter((x) => x.kind !== 'entity' && x.kind !== 'jurisdiction').slice(0, 8)) {
      lines.push(`      ${e.kind} ${e.rule} → ${e.target ?? ''} ${e.weight} "${clip(e.text, 40)}"`);
    }
  }
  lines.push(`label mismatches on correctly flagged items (${report.mismatches.length}):`);
  for (const m of report.mismatches) {
    lines.push(
      `  ${m.id} ${m.field}: expected [${m.expected.join(', ')}] got [${m.predicted.join(', ')}]  ${clip(m.title, 70)}`,
    );
  }
  return lines.join('\n');
}

/**
 * Where the labelled dev set is looked for: `REGWATCH_CLASSIFIER_DEV`, else
 * `<repo>/../shared/fixtures/classifier/dev.jsonl` (resolved from this module, in src/ or dist/).
 */
export function defaultDevSetPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['REGWATCH_CLASSIFIER_DEV'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return fileURLToPath(new URL('../../../../shared/fixtures/classifier/dev.jsonl', import.meta.url));
}
