import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatPath, JurisdictionSchema, TOPICS, type Topic } from '@regwatch/contracts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RULES_ERROR_CODES, RulesError } from './errors.js';

/**
 * The taxonomy schema. Rules are data: this file only says what a well-formed taxonomy looks like;
 * `rules/taxonomy.yaml` says what the classifier knows about export controls and customs.
 *
 * Term syntax (everywhere a term string appears): matching ignores case, accents and full/half width;
 * Latin-script terms match on word boundaries; a trailing `*` drops the right boundary (`sanction*`
 * matches "sanctioned"), a leading `*` drops the left one (`*zölle` matches "Strafzölle"); a `*` that ends
 * a word inside a phrase stands for simple English inflections (`crack* down` matches "cracks down",
 * "cracked down", "cracking down"). CJK and
 * Hangul terms never need boundaries. `case: true` on an entry requires the original letter case
 * (`US` must not match the pronoun "us").
 */

/** Where the default taxonomy lives: `../rules/taxonomy.yaml` from both `src/` and `dist/`. */
export const DEFAULT_TAXONOMY_PATH = fileURLToPath(new URL('../rules/taxonomy.yaml', import.meta.url));

const num = (what = 'a number') => z.number({ error: `must be ${what}` });
const weight = num().finite();
const factor = num('a number from 0 to 10').min(0, 'must be ≥ 0').max(10, 'must be ≤ 10');
const window = num('a whole number of characters (0 = anywhere in the item)').int().min(0).max(2000);
const termString = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine(
    (s) => !/\*(?=\S)/.test(s.slice(1, -1)) && (s.slice(1, -1).match(/\*/g)?.length ?? 0) <= 2,
    '`*` may only start or end a term, or end a word inside it (at most twice): "crack* down"',
  )
  .refine((s) => s.replace(/\*/g, '').trim().length > 0, 'must contain more than `*`');
const groupRef = z.string({ error: 'must be a group name' }).min(1);
const topicKey = z.enum(TOPICS, { error: `must be one of ${TOPICS.join(', ')}` });
const topicWeights = z.partialRecord(topicKey, weight);

/** A context that changes a term's weight when one of its groups matches within `window`. */
export const ContextSpecSchema = z.strictObject({
  groups: z.array(groupRef).min(1, 'must name at least one group'),
  window: window.default(80),
  factor: factor.default(1),
  /** Only for `unless`: the negative does not apply when one of these groups is also near. */
  except: z.array(groupRef).optional(),
});
export type ContextSpec = z.infer<typeof ContextSpecSchema>;

/** One topic term, or a list of terms sharing weight and contexts. */
export const TermEntrySchema = z
  .strictObject({
    term: termString.optional(),
    terms: z.array(termString).min(1).optional(),
    weight,
    case: z.boolean({ error: 'must be true or false' }).default(false),
    /** Positive contexts: the largest factor among those that match applies… */
    near: z.array(ContextSpecSchema).optional(),
    /** …and when none matches, this factor applies (a proximity requirement when small). */
    otherwise: factor.default(1),
    /** Negative contexts: each that matches multiplies the weight by its factor (default 0). */
    unless: z.array(ContextSpecSchema.extend({ factor: factor.default(0) })).optional(),
  })
  .refine((e) => (e.term === undefined) !== (e.terms === undefined), 'must have exactly one of `term` or `terms`');
export type TermEntry = z.infer<typeof TermEntrySchema>;

const GroupSchema = z.union([
  z.array(termString),
  z.strictObject({ terms: z.array(termString).min(1), case: z.boolean().default(false) }),
]);

export const ComboSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a slug such as "restrict-exports"'),
  /** Group names, or `topic:<topic>` for any positive term of that topic, that must all match. */
  all: z.array(groupRef).min(2, 'must list at least two groups'),
  /** All parts within this many characters of the first one, in the same field; 0 = anywhere in the item. */
  window: window.default(60),
  topics: topicWeights.refine((t) => Object.keys(t).length > 0, 'must give at least one topic weight'),
  unless: z.array(ContextSpecSchema.extend({ factor: factor.default(0) })).optional(),
});
export type Combo = z.infer<typeof ComboSchema>;

export const JurisdictionEntrySchema = z
  .strictObject({
    term: termString.optional(),
    terms: z.array(termString).min(1).optional(),
    weight: weight.default(1),
    case: z.boolean().default(false),
  })
  .refine((e) => (e.term === undefined) !== (e.terms === undefined), 'must have exactly one of `term` or `terms`');

export const EntitySchema = z.strictObject({
  name: z.string().min(1).max(100),
  aliases: z.array(termString).min(1, 'must list at least one alias'),
  /** Aliases that must match in their original case (`BIS`, `ICE`, `CBP`). */
  caseAliases: z.array(termString).optional(),
  kind: z.enum(['agency', 'company', 'product', 'law', 'list']).default('company'),
  /** A chip or company a compliance team watches: with a new control or seizure, severity is critical. */
  major: z.boolean().default(false),
  topics: topicWeights.optional(),
  jurisdiction: JurisdictionSchema.optional(),
});
export type Entity = z.infer<typeof EntitySchema>;

export const PatternSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a slug'),
  /** Run on the normalized (lower-case, NFKC) text; keep it short and anchored, it runs on every item. */
  regex: z
    .string()
    .max(200, 'must be at most 200 characters')
    .refine((s) => {
      try {
        new RegExp(s, 'gu');
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid regular expression'),
  topics: topicWeights.optional(),
  jurisdiction: JurisdictionSchema.optional(),
  weight: weight.default(1),
});

export const SettingsSchema = z.strictObject({
  /** A topic whose score reaches this flags the item. */
  flagThreshold: num().positive(),
  /** Other topics are listed on a flagged item when their score reaches this. */
  topicThreshold: num().positive(),
  /** Evidence in the title counts this much more than in the summary. */
  titleBoost: num().min(1).max(3).default(1.25),
  /** Jurisdictions are listed when their evidence adds up to this. */
  jurisdictionThreshold: num().positive().default(1),
  /** Severity: a flagged item is `high` from this best-topic score on. */
  highScore: num().positive(),
  /** Groups whose presence means a *new* action (ban, seizure, new rule): needed for `critical`. */
  criticalGroups: z.array(groupRef).default([]),
  maxEvidence: num().int().min(1).max(500).default(60),
});

export const RulesSchema = z
  .strictObject({
    version: z.string({ error: 'must be a string such as "2025.06.1"' }).min(1),
    settings: SettingsSchema,
    /** Pairs of characters folded before matching, e.g. traditional → simplified Chinese: "關关 獲获". */
    charMap: z.string().default(''),
    groups: z.record(z.string().regex(/^[a-z0-9_]+$/, 'group names are snake_case'), GroupSchema),
    topics: z.partialRecord(topicKey, z.strictObject({ terms: z.array(TermEntrySchema) })),
    combos: z.array(ComboSchema).default([]),
    /** Phrases whose span cancels topic, group and jurisdiction matches inside it ("Immigration and Customs Enforcement"). */
    neutralizers: z.array(z.strictObject({ id: z.string().min(1), terms: z.array(termString).min(1) })).default([]),
    jurisdictions: z.record(JurisdictionSchema, z.array(JurisdictionEntrySchema)),
    entities: z.array(EntitySchema).default([]),
    patterns: z.array(PatternSchema).default([]),
  })
  .superRefine((rules, ctx) => {
    // Cross references: every group a context, combo or setting names must exist.
    const known = new Set(Object.keys(rules.groups));
    const checkRef = (ref: string, path: PropertyKey[]): void => {
      if (ref.startsWith('topic:')) {
        if (!(TOPICS as readonly string[]).includes(ref.slice(6))) {
          ctx.addIssue({ code: 'custom', path, message: `unknown topic "${ref.slice(6)}"` });
        }
      } else if (!known.has(ref)) {
        ctx.addIssue({ code: 'custom', path, message: `unknown group "${ref}"` });
      }
    };
    const checkSpecs = (specs: ContextSpec[] | undefined, path: PropertyKey[]): void => {
      specs?.forEach((spec, i) => {
        spec.groups.forEach((g, j) => {
          checkRef(g, [...path, i, 'groups', j]);
        });
        spec.except?.forEach((g, j) => {
          checkRef(g, [...path, i, 'except', j]);
        });
      });
    };
    for (const [topic, def] of Object.entries(rules.topics)) {
      def?.terms.forEach((entry, i) => {
        checkSpecs(entry.near, ['topics', topic, 'terms', i, 'near']);
        checkSpecs(entry.unless, ['topics', topic, 'terms', i, 'unless']);
      });
    }
    rules.combos.forEach((combo, i) => {
      combo.all.forEach((g, j) => {
        checkRef(g, ['combos', i, 'all', j]);
      });
      checkSpecs(combo.unless, ['combos', i, 'unless']);
    });
    rules.settings.criticalGroups.forEach((g, i) => {
      checkRef(g, ['settings', 'criticalGroups', i]);
    });
    if ([...rules.charMap.replace(/\s+/g, '')].length % 2 !== 0) {
      ctx.addIssue({ code: 'custom', path: ['charMap'], message: 'must be pairs of characters ("關关 獲获")' });
    }
    const names = new Set<string>();
    rules.entities.forEach((e, i) => {
      if (names.has(e.name))
        ctx.addIssue({ code: 'custom', path: ['entities', i, 'name'], message: `duplicate entity "${e.name}"` });
      names.add(e.name);
    });
  });

/** A parsed, validated taxonomy. */
export type Rules = z.infer<typeof RulesSchema>;
export type RulesInput = z.input<typeof RulesSchema>;
export type TopicName = Topic;

/**
 * Formats zod issues as `path: message`. When the failing value is a named field and the message reads
 * as a requirement ("must …"), the field moves to the message so the path points at the entry:
 * `topics.export_controls.terms[3]: weight must be a number`.
 */
export function formatRulesIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = [...issue.path];
    const last = path.at(-1);
    if (typeof last === 'string' && path.length > 1 && issue.message.startsWith('must')) {
      path.pop();
      return `${formatPath(path)}: ${last} ${issue.message}`;
    }
    return `${formatPath(path) || '(root)'}: ${issue.message}`;
  });
}

/** Validates an already-parsed taxonomy object. `source` names the file in error messages. */
export function parseRules(data: unknown, source = 'taxonomy'): Rules {
  const result = RulesSchema.safeParse(data);
  if (!result.success) {
    throw new RulesError(RULES_ERROR_CODES.invalid, `${source}: invalid taxonomy`, formatRulesIssues(result.error));
  }
  return result.data;
}

/** Parses and validates taxonomy YAML text. */
export function parseRulesYaml(text: string, source = 'taxonomy'): Rules {
  let data: unknown;
  try {
    data = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new RulesError(RULES_ERROR_CODES.parseFailed, `${source}: not valid YAML: ${message}`, [], { cause: err });
  }
  return parseRules(data, source);
}

/**
 * Reads, parses and validates a taxonomy file (the bundled one by default).
 * Throws a {@link RulesError} whose message lists every problem as `path: message`.
 */
export function loadRules(path: string = DEFAULT_TAXONOMY_PATH): Rules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RulesError(RULES_ERROR_CODES.readFailed, `${path}: cannot read taxonomy: ${(err as Error).message}`, [], {
      cause: err,
    });
  }
  return parseRulesYaml(text, path);
}
